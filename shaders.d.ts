/** WGSL sources are bundled as strings (esbuild's text loader). */
declare module '*.wgsl' {
  const source: string;
  export default source;
}

/** The wasm kernels (wasm/*.c, compiled by build.mjs) are bundled as bytes (esbuild's binary loader). */
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
