import type { UniformFields, UniformLayout, UniformValues } from './uniforms.js';

/**
 * A compute kernel as data: the WGSL source, its entry point, what its bindings are and the
 * workgroup size (the shader's `override WG`). Binding 0 is always the kernel's uniform struct
 * (bound with a dynamic offset), declared in `uniforms`; bindings 1… are storage buffers in the
 * order of `storage`.
 */
export interface KernelDescriptor<F extends UniformFields = UniformFields> {
  readonly name: string;
  readonly source: string;
  readonly entryPoint: string;
  /** Access of storage bindings 1…n: 'read' is `var<storage, read>`, 'rw' is `read_write`. */
  readonly storage: readonly ('read' | 'rw')[];
  /** Value of the shader's `override WG` (invocations per workgroup). */
  readonly workgroupSize: number;
  /** Further override constants, part of the pipeline cache key. */
  readonly constants?: Readonly<Record<string, number>>;
  /**
   * The struct bound at `@group(0) @binding(0)`, checked against the WGSL by a test. Optional only
   * for kernels that still pack with `params()` (and fail that test until they declare it).
   */
  readonly uniforms?: UniformLayout<F>;
}

/** One dispatch of a kernel: its buffers, its uniform values and how many workgroups in all. */
export type DispatchRequest<F extends UniformFields = UniformFields> = {
  readonly kernel: KernelDescriptor<F>;
  readonly buffers: readonly GPUBuffer[];
  /** Total workgroups; laid out over x and y when it passes maxComputeWorkgroupsPerDimension. */
  readonly workgroups: number;
} & (
  /** The values of the kernel's declared uniform struct. */
  | { readonly params: UniformValues<F>; readonly uniforms?: never }
  /** Packed bytes (≤ UNIFORM_SLOT), for kernels without a declared layout; see `params()`. */
  | { readonly uniforms: ArrayBuffer; readonly params?: never }
);

/**
 * A kernel descriptor with its uniform values' type taken from its layout, so a dispatch's
 * `params` must name every field of the kernel's struct.
 *
 * @example
 * const AXPY = kernel({ name: 'axpy', source, entryPoint: 'axpy', storage: ['read', 'rw'], workgroupSize: 256,
 *   uniforms: uniforms('ElementwiseParams', { n: 'u32', alpha: 'f32' }) });
 * rt.dispatch({ kernel: AXPY, buffers: [x, y], params: { n, alpha }, workgroups: Math.ceil(n / 256) });
 */
export function kernel<F extends UniformFields>(descriptor: KernelDescriptor<F>): KernelDescriptor<F> {
  return descriptor;
}
