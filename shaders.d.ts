/** WGSL sources are bundled as strings (esbuild's text loader). */
declare module '*.wgsl' {
  const source: string;
  export default source;
}
