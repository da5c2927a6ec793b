/** The command line's `--backend` flag and opening the backend it names. */
import { createBackend, type CreateBackendOptions } from '../backend.js';
import type { Backend } from '../core/backend.js';
import { BackendError } from '../core/errors.js';
import { UsageError, type Flags } from './flags.js';
import { note } from './io.js';

/**
 * What `--backend` takes. `wasm` is handed to createBackend as it is: a build whose createBackend
 * does not offer it yet says so (exit 1).
 *
 * @example
 * console.log(`--backend ${BACKEND_KINDS.join('|')}`);
 */
export const BACKEND_KINDS = ['auto', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/**
 * The help text of `--backend` (the flag's column is 22 characters wide).
 *
 * @example
 * const help = `  --backend KIND      ${backendHelp('auto')}`;
 */
export function backendHelp(fallback: BackendKind): string {
  const lines = [
    `auto${fallback === 'auto' ? ' (default)' : ''}: WebGPU on a real GPU, else the fastest CPU backend, with the reason`,
    `webgpu${fallback === 'webgpu' ? ' (default)' : ''}: WebGPU even on a software adapter (SwiftShader); the cpu backend, with a`,
    '  message, when there is no adapter at all',
    'wasm: the f32 SIMD WebAssembly backend, where the build has it',
    'cpu: the float64 JavaScript backend (the reference)',
  ];
  return lines.join('\n                      ');
}

/**
 * The `--backend` flag, `fallback` when not given.
 *
 * @example
 * const kind = backendFlag(flags, 'auto');
 */
export function backendFlag(flags: Flags, fallback: BackendKind): BackendKind {
  const v = flags.get('backend') ?? fallback;
  if (!(BACKEND_KINDS as readonly unknown[]).includes(v)) throw new UsageError(`--backend must be ${BACKEND_KINDS.join(', ')}, got '${String(v)}'`);
  return v as BackendKind;
}

/**
 * The backend the user asked for. 'webgpu' falls back to the cpu backend, with a message, when
 * no adapter is found, so the job still runs on a machine without WebGPU; 'auto' says why it
 * chose a CPU backend. (The library keeps the Vulkan loader quiet itself: src/platform/node.ts.)
 *
 * @example
 * const backend = await openBackend('auto');
 */
export async function openBackend(kind: BackendKind): Promise<Backend> {
  if (kind === 'webgpu') {
    try {
      return await createBackend({ kind: 'webgpu' });
    } catch (e) {
      if (!(e instanceof BackendError)) throw e;
      note(`\nNo WebGPU adapter here: ${e.message}`);
      note('Falling back to the cpu backend (float64 JavaScript): the same algorithms, not on a GPU. Pass --backend cpu to skip the search.\n');
      return createBackend({ kind: 'cpu' });
    }
  }
  let backend: Backend;
  try {
    backend = await createBackend({ kind: kind as NonNullable<CreateBackendOptions['kind']> });
  } catch (e) {
    if (kind === 'wasm' && e instanceof BackendError) throw new BackendError(`--backend wasm: this build cannot make it: ${e.message}`);
    throw e;
  }
  if (kind === 'auto' && backend.kind !== 'webgpu') {
    note(`backend auto chose ${backend.kind} (reason below); pass --backend webgpu to run on the WebGPU adapter anyway.`);
  }
  return backend;
}
