// '#platform' is resolved by package.json "imports": the `node` condition gives node.ts, any other
// runtime browser.ts; both export the same `platform` (src/platform/types.ts).
declare module '#platform' {
  export const platform: import('./types.js').Platform;
}
