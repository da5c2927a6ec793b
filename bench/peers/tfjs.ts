// TF.js peers: the suite's math as a JS developer would write it with TensorFlow.js, the library
// they would reach for instead of this one. The same code runs on TF.js's cpu, wasm and webgpu
// backends, in Node and in a page; `loadTfjs` sets the backends up for the runtime it runs in.
//
// - GEMM: tf.matMul with a broadcast batch.
// - LinUCB: A⁻¹, b and θ as tensors; select is one matMul of all arms' A⁻¹ (K·d × d) by the
//   contexts, the quadratic forms as a multiply-and-sum, argMax over arms; update applies
//   Sherman–Morrison in rounds (round j takes every arm's j-th row of the batch, so rows of one arm
//   stay in order and distinct arms go together): gather, batched matMuls, tensorScatterUpdate.
//   TF.js tensors are immutable, so each round writes whole new state tensors: that copy is the
//   price of the idiom, and part of what is timed.
// - NeuralUCB select, two routes to the per-arm gradients:
//   · per-arm: tf.valueAndGrads of f(x_n; θ) by θ's tensors, once per row (the idiomatic route:
//     TF.js has no jacobian or vmap), bonus Σ g²/Z per row;
//   · vectorised: one tf.grad of Σ_n f(x_n) by the first layer's pre-activations z (row n's
//     f depends only on row n's z, so that gradient holds every row's δ = ∂f_n/∂z_n), then the
//     matrix-free bonus Σ δ²·(x²·(1/Z_W1)ᵀ + 1/Z_b1) + h²·(1/Z_w2) + 1/Z_b2, the same algorithm as
//     the library's diagonalBonus. No TF.js route holds the B·K × p Jacobian at these sizes.
import type * as TfNamespace from '@tensorflow/tfjs';
import type { NeuralNet } from './plain-neural.js';

export type TF = typeof TfNamespace;
type Tensor = TfNamespace.Tensor;
type Tensor2D = TfNamespace.Tensor2D;
type Tensor3D = TfNamespace.Tensor3D;

/** TF.js backends the suite runs: `tfjs-<name>` in the results. */
export const TFJS_BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
export type TfjsBackendName = (typeof TFJS_BACKENDS)[number];

export interface TfjsHost {
  /** Where tfjs-backend-wasm's .wasm files are: a folder in Node, a URL prefix in a page (ends in '/'). */
  readonly wasmPath: string;
  /**
   * Node: a WebGPU `GPU` for TF.js's webgpu backend (the 'webgpu' package). TF.js registers its
   * webgpu backend only where `navigator.gpu` exists, so in Node the suite registers it on this.
   */
  readonly nodeGpu?: () => Promise<GPU>;
}

export interface TfjsEnv {
  readonly tf: TF;
  readonly versions: Readonly<Record<string, string>>;
  /** Per backend: ready, or why not. */
  readonly backends: Readonly<Record<TfjsBackendName, { readonly ok: boolean; readonly error?: string; readonly info?: Readonly<Record<string, unknown>> }>>;
  use(name: TfjsBackendName): Promise<void>;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Loads TF.js with its three backends; never throws for one backend (it is reported as not ok). */
export async function loadTfjs(host: TfjsHost): Promise<TfjsEnv> {
  const tf = (await import('@tensorflow/tfjs')) as TF;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const webgpu = await import('@tensorflow/tfjs-backend-webgpu');
  wasm.setWasmPaths(host.wasmPath);
  const backends: Record<string, { ok: boolean; error?: string; info?: Record<string, unknown> }> = {};
  if (host.nodeGpu && !tf.findBackendFactory('webgpu')) {
    try {
      const gpu = await host.nodeGpu();
      // WebGPUBackend's constructor checks navigator.gpu; Node 20 has no navigator, Node 21+ one without gpu.
      const g = globalThis as { navigator?: object };
      if (g.navigator === undefined) g.navigator = { gpu };
      else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
      const WebGPUBackend = (webgpu as unknown as { WebGPUBackend: new (device: GPUDevice, info?: GPUAdapterInfo) => TfNamespace.KernelBackend }).WebGPUBackend;
      // The device TF.js's own factory requests in a browser: the adapter's limits that matter to it.
      tf.registerBackend('webgpu', async () => {
        const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
        if (!adapter) throw new Error('no WebGPU adapter for TF.js');
        const l = adapter.limits;
        const device = await adapter.requestDevice({
          requiredLimits: {
            maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize, maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
            maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize,
            maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX, maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
          },
        });
        return new WebGPUBackend(device, adapter.info);
      }, 3);
    } catch (e) {
      backends['webgpu'] = { ok: false, error: `no WebGPU for TF.js in Node: ${message(e)}` };
    }
  }
  for (const name of TFJS_BACKENDS) {
    if (backends[name]) continue;
    try {
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false (see the log for why)`);
      await tf.ready();
      const info: Record<string, unknown> = {};
      if (name === 'wasm') {
        info['simd'] = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        info['multithread'] = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
        info['threads'] = wasm.getThreadsCount();
      }
      if (name === 'webgpu') {
        const b = tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; description?: string } };
        const a = b.adapterInfo;
        if (a) info['adapter'] = [a.vendor, a.architecture, a.description].filter(Boolean).join(' ');
        for (const flag of ['WEBGPU_CPU_FORWARD', 'WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 'WEBGPU_MATMUL_PROGRAM_TYPE']) {
          info[flag] = tf.env().get(flag);
        }
      }
      backends[name] = { ok: true, info };
    } catch (e) {
      backends[name] = { ok: false, error: message(e) };
    }
  }
  return {
    tf,
    versions: { ...(tf.version as unknown as Record<string, string>) },
    backends: backends as TfjsEnv['backends'],
    async use(name) {
      if (!backends[name]?.ok) throw new Error(`TF.js ${name} backend unavailable: ${backends[name]?.error ?? 'not loaded'}`);
      if (tf.getBackend() !== name) await tf.setBackend(name);
    },
  };
}

/** Waits for every queued op on the current backend: reading one element queues behind them. */
async function settle(tf: TF, t: Tensor): Promise<void> {
  const one = tf.tidy(() => t.flatten().slice(0, 1));
  await one.data();
  one.dispose();
}

// ---- GEMM ----

/** C_k = X·A_k for every k: X B×d, A K×d×d, C K×B×d; `run` returns C on the host. */
export function tfjsBatchedGemm(tf: TF, x: Float32Array, a: Float32Array, arms: number, rows: number, d: number): { run(): Promise<Float32Array>; dispose(): void } {
  const tx = tf.tensor3d(x, [1, rows, d]), ta = tf.tensor3d(a, [arms, d, d]);
  return {
    async run() {
      const c = tf.matMul(tx, ta);
      const out = (await c.data()) as Float32Array;
      c.dispose();
      return out;
    },
    dispose() {
      tx.dispose();
      ta.dispose();
    },
  };
}

// ---- LinUCB ----

export class TfjsLinUCB {
  private aInv: Tensor3D;
  private b: Tensor2D;
  private theta: Tensor2D;

  constructor(private readonly tf: TF, readonly arms: number, readonly dim: number, private readonly alpha: number, lambda: number) {
    this.aInv = tf.tidy(() => tf.eye(dim).mul(1 / lambda).expandDims(0).tile([arms, 1, 1]) as Tensor3D);
    this.b = tf.zeros([arms, dim]);
    this.theta = tf.zeros([arms, dim]);
  }

  async select(x: Float32Array): Promise<Int32Array> {
    const { tf, arms: K, dim: d } = this;
    const B = x.length / d;
    const best = tf.tidy(() => {
      const X = tf.tensor2d(x, [B, d]);
      const z = tf.matMul(this.aInv.reshape([K * d, d]), X, false, true).reshape([K, d, B]); // A_k⁻¹ x_b
      const width2 = tf.sum(tf.mul(z, tf.transpose(X).expandDims(0)), 1); // K×B: x_bᵀ A_k⁻¹ x_b
      const mean = tf.matMul(this.theta, X, false, true); // K×B
      return tf.argMax(tf.add(mean, tf.mul(tf.sqrt(tf.relu(width2)), this.alpha)), 0);
    });
    const chosen = Int32Array.from((await best.data()) as Int32Array);
    best.dispose();
    return chosen;
  }

  async update(arms: Int32Array, x: Float32Array, rewards: Float32Array): Promise<void> {
    const { tf, dim: d } = this;
    for (const rows of occurrenceRounds(arms)) {
      const U = rows.length;
      const idx = Int32Array.from(rows, (u) => arms[u]!);
      const xs = new Float32Array(U * d), rs = new Float32Array(U);
      rows.forEach((u, i) => {
        xs.set(x.subarray(u * d, u * d + d), i * d);
        rs[i] = rewards[u]!;
      });
      const next = tf.tidy(() => {
        const at = tf.tensor2d(idx, [U, 1], 'int32'), I = tf.tensor1d(idx, 'int32');
        const X = tf.tensor2d(xs, [U, d]);
        const A = tf.gather(this.aInv, I); // U×d×d
        const v = tf.matMul(A, X.reshape([U, d, 1])); // A⁻¹x
        const den = tf.add(tf.matMul(X.reshape([U, 1, d]), v), 1);
        const A2 = tf.sub(A, tf.div(tf.matMul(v, v, false, true), den));
        const b2 = tf.add(tf.gather(this.b, I), tf.mul(X, tf.tensor2d(rs, [U, 1])));
        const th = tf.matMul(A2, b2.reshape([U, d, 1])).reshape([U, d]);
        return [tf.tensorScatterUpdate(this.aInv, at, A2), tf.tensorScatterUpdate(this.b, at, b2), tf.tensorScatterUpdate(this.theta, at, th)] as const;
      });
      this.aInv.dispose();
      this.b.dispose();
      this.theta.dispose();
      [this.aInv, this.b, this.theta] = next as unknown as [Tensor3D, Tensor2D, Tensor2D];
    }
    await settle(tf, this.theta);
  }

  dispose(): void {
    this.aInv.dispose();
    this.b.dispose();
    this.theta.dispose();
  }
}

/** Rows of a batch grouped so that round j holds every arm's j-th row, in batch order. */
export function occurrenceRounds(arms: Int32Array): number[][] {
  const seen = new Map<number, number>();
  const rounds: number[][] = [];
  arms.forEach((a, u) => {
    const j = seen.get(a) ?? 0;
    seen.set(a, j + 1);
    (rounds[j] ??= []).push(u);
  });
  return rounds;
}

// ---- NeuralUCB select ----

export type NeuralRoute = 'per-arm' | 'vectorised';

export class TfjsNeuralUCB {
  private readonly params: Tensor[];
  /** 1/Z split like θ: W1 (m×d), b1 (m), w2 (m×1), b2 (scalar). */
  private readonly zInv: Tensor[];
  private readonly dim: number;
  private readonly width: number;
  private readonly nuScale: number;

  constructor(private readonly tf: TF, net: NeuralNet) {
    const { dim: d, width: m, theta, zDiag } = net;
    this.dim = d;
    this.width = m;
    this.nuScale = net.nu / Math.sqrt(m);
    const split = (v: Float32Array): Tensor[] => [
      tf.tensor2d(v.subarray(0, m * d), [m, d]), tf.tensor1d(v.subarray(m * d, m * d + m)),
      tf.tensor2d(v.subarray(m * d + m, m * d + 2 * m), [m, 1]), tf.scalar(v[m * d + 2 * m]!),
    ];
    this.params = split(theta);
    this.zInv = split(zDiag.map((z) => 1 / z));
  }

  /** f(X) for the rows of X (N×d) as an N×1 tensor. */
  private forward(X: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor {
    const tf = this.tf;
    return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(X, w1, false, true), b1)), w2), b2);
  }

  /** Every row's score f + ν·sqrt(bonus/m), N values. */
  scores(X: Tensor2D, route: NeuralRoute): Tensor {
    return route === 'vectorised' ? this.scoresVectorised(X) : this.scoresPerArm(X);
  }

  private scoresPerArm(X: Tensor2D): Tensor {
    const tf = this.tf, [N] = X.shape, d = this.dim;
    const perRow: Tensor[] = [];
    for (let n = 0; n < N; n++) {
      perRow.push(tf.tidy(() => {
        const xn = tf.slice(X, [n, 0], [1, d]);
        const { value, grads } = tf.valueAndGrads((w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) => this.forward(xn, w1, b1, w2, b2).reshape([]))(this.params);
        const bonus = tf.addN(grads.map((g, i) => tf.sum(tf.mul(tf.square(g), this.zInv[i]!))));
        return tf.add(value, tf.mul(tf.sqrt(bonus), this.nuScale));
      }));
    }
    const all = tf.stack(perRow);
    for (const t of perRow) t.dispose();
    return all;
  }

  private scoresVectorised(X: Tensor2D): Tensor {
    const tf = this.tf, [w1, b1, w2, b2] = this.params as [Tensor, Tensor, Tensor, Tensor];
    const [zw1, zb1, zw2, zb2] = this.zInv as [Tensor, Tensor, Tensor, Tensor];
    return tf.tidy(() => {
      const z = tf.add(tf.matMul(X, w1, false, true), b1); // N×m pre-activations
      const head = (zz: Tensor) => tf.add(tf.matMul(tf.relu(zz), w2), b2);
      const delta = tf.grad((zz: Tensor) => tf.sum(head(zz)))(z); // row n: ∂f_n/∂z_n
      const h = tf.relu(z);
      const f = head(z).reshape([-1]);
      const bonus = tf.add(
        tf.add(
          tf.sum(tf.mul(tf.square(delta), tf.add(tf.matMul(tf.square(X), zw1, false, true), zb1)), 1),
          tf.matMul(tf.square(h), zw2).reshape([-1]),
        ),
        zb2,
      );
      return tf.add(f, tf.mul(tf.sqrt(bonus), this.nuScale));
    });
  }

  /** The chosen arm of each of the B rows of `features` (B×K×d). */
  async select(features: Float32Array, arms: number, route: NeuralRoute): Promise<Int32Array> {
    const tf = this.tf, N = features.length / this.dim;
    const best = tf.tidy(() => tf.argMax(this.scores(tf.tensor2d(features, [N, this.dim]), route).reshape([N / arms, arms]), 1));
    const chosen = Int32Array.from((await best.data()) as Int32Array);
    best.dispose();
    return chosen;
  }

  /** Every row's score, read back (the check before timing). */
  async readScores(features: Float32Array, route: NeuralRoute): Promise<Float32Array> {
    const tf = this.tf;
    const s = tf.tidy(() => this.scores(tf.tensor2d(features, [features.length / this.dim, this.dim]), route));
    const out = (await s.data()) as Float32Array;
    s.dispose();
    return out;
  }

  dispose(): void {
    for (const t of [...this.params, ...this.zInv]) t.dispose();
  }
}

// ---- a NeuralUCB train step ----

/**
 * One gradient-descent step of the same network on a minibatch, the TF.js way: θ as tf.variables,
 * the loss Σ (f − y)²/(2B) (the library's squared loss with scale 1/B), tf.train.sgd(lr).minimize.
 */
export class TfjsMlpTrainer {
  private readonly vars: TfNamespace.Variable[];
  private readonly optimizer: TfNamespace.SGDOptimizer;
  private readonly x: Tensor2D;
  private readonly y: Tensor;

  constructor(private readonly tf: TF, theta: Float32Array, readonly dim: number, readonly width: number, lr: number, x: Float32Array, y: Float32Array) {
    const d = dim, m = width;
    this.vars = [
      tf.variable(tf.tensor2d(theta.subarray(0, m * d), [m, d])), tf.variable(tf.tensor1d(theta.subarray(m * d, m * d + m))),
      tf.variable(tf.tensor2d(theta.subarray(m * d + m, m * d + 2 * m), [m, 1])), tf.variable(tf.scalar(theta[m * d + 2 * m]!)),
    ];
    this.optimizer = tf.train.sgd(lr);
    this.x = tf.tensor2d(x, [y.length, d]);
    this.y = tf.tensor2d(y, [y.length, 1]);
  }

  async step(): Promise<void> {
    const tf = this.tf, [w1, b1, w2, b2] = this.vars as unknown as [Tensor, Tensor, Tensor, Tensor];
    const rows = this.x.shape[0];
    this.optimizer.minimize(() => {
      const f = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(this.x, w1, false, true), b1)), w2), b2);
      return tf.div(tf.sum(tf.square(tf.sub(f, this.y))), 2 * rows) as TfNamespace.Scalar;
    }, false, this.vars);
    await settle(tf, this.vars[3]!);
  }

  /** θ in mlpLayout order. */
  async theta(): Promise<Float32Array> {
    const parts = await Promise.all(this.vars.map((v) => v.data()));
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p as Float32Array, at);
      at += p.length;
    }
    return out;
  }

  dispose(): void {
    for (const v of this.vars) v.dispose();
    this.optimizer.dispose();
    this.x.dispose();
    this.y.dispose();
  }
}
