import type { Platform } from './types.js';

export const isNode = (): boolean =>
  typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * The runtime's side of the library. A package.json "imports" entry resolves '#platform' to the
 * Node module (which alone imports `webgpu` and `node:*`) under the `node` condition and to a
 * stub elsewhere, so browser bundles hold neither, and Node bundlers can follow it. Outside Node
 * the stub is imported directly: a page's own module graph may not map '#platform'.
 */
export async function loadPlatform(): Promise<Platform> {
  return isNode() ? (await import('#platform')).platform : (await import('./browser.js')).platform;
}
