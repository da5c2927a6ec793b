/** What the user runs on, as reported by the adapter (or why the cpu backend was chosen). */
export interface AdapterDescription {
  readonly runtime: 'browser' | 'node';
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** True for software (CPU) adapters such as SwiftShader: correct, but not fast. */
  readonly isFallbackAdapter: boolean;
  readonly features: readonly string[];
  /** How the adapter was found, e.g. 'navigator.gpu' or 'webgpu package, VK_ICD_FILENAMES=…'. */
  readonly route: string;
}

export type DType = 'f32' | 'i32';

/** Host arrays a tensor can be read into. The cpu backend keeps float64; WebGPU has f32 only. */
export type HostArray = Float32Array | Float64Array | Int32Array;

/**
 * A backend-owned array with a shape: a GPU buffer on `webgpu`, a Float64Array (or Int32Array)
 * on `cpu`. Made by `backend.tensor()` / `backend.zeros()` or returned by ops; read with
 * `backend.read()`; free with `dispose()`.
 *
 * @example
 * const t = backend.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
 * console.log(await backend.read(t)); // Float32Array [1, 2, 3, 4] on webgpu
 * t.dispose();
 */
export abstract class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  readonly label: string;
  private isDisposed = false;

  constructor(shape: readonly number[], dtype: DType, label: string) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = shape.reduce((a, b) => a * b, 1);
    this.label = label;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.release();
  }

  protected abstract release(): void;
}

export interface TensorOptions {
  readonly dtype?: DType;
  readonly label?: string;
}

