// 'webgpu-bandits': the models, createBackend, the errors and the types they take and return.
// Kernels are in 'webgpu-bandits/ops', the simulator in '/sim', evaluation in '/eval'.
export { createBackend, type AutoWorkload, type CreateBackendOptions } from './backend.js';
export { BanditError, BackendError } from './core/errors.js';
export type { AdapterDescription } from './core/tensor.js';
export { Tensor } from './core/tensor.js';
export type { Backend, BackendInfo, ModelPlacement } from './core/backend.js';
export type { DType, HostArray, TensorOptions } from './core/tensor.js';
export { LinUCB, type LinUCBOptions, type LinUCBDiagnostics } from './linucb/linucb.js';
export { LinTS, type LinTSOptions, type LinTSDiagnostics } from './linucb/lints.js';
export type { DisjointLinearOptions, LinearDiagnostics } from './linucb/disjoint.js';
export type { RidgeDiagnostics } from './linucb/options.js';
export type { Decision, DecideOptions, SelectOptions } from './models/decisions.js';
export type { AddArmsOptions, ArmsInput } from './models/catalogue.js';
export type { DelayedRewardOptions, DelayedRewardCounts } from './models/pending.js';
export type { UpdateOptions, WarmStartOptions, NeuralWarmStartOptions, LoggedDecisions } from './models/weights.js';
export type { Exploration } from './models/exploration.js';
export {
  HybridLinUCB, type HybridLinUCBOptions, type HybridLinUCBDiagnostics, type HybridContexts,
} from './linucb/hybrid.js';
export {
  NeuralUCB, type NeuralUCBOptions, type NeuralUCBDiagnostics, type NeuralDecideOptions, type NeuralSelectOptions,
} from './neural/neuralucb.js';
export { NeuralTS, type NeuralTSOptions, type NeuralTSDiagnostics } from './neural/neuralts.js';
export type { NeuralOptions } from './neural/options.js';
export type { NeuralDiagnostics } from './neural/neural-types.js';
export {
  EmbeddingMLP, type EmbeddingMLPOptions, type InteractionLog, type FitOptions, type EmbeddingMLPGradients, type EmbeddingLoggedDecisions,
} from './neural/embedding-mlp.js';
export { ModelStore, ModelStoreError, type StoredModelInfo, type ModelStoreOptions } from './store/model-store.js';
export {
  BanditWorker, type RemoteModel, type RemoteHandle, type BanditWorkerOptions, type WorkerCreateArgs, type WorkerLoadArgs, type WorkerStaticArgs, type WorkerStatic,
} from './worker/client.js';
export { serveBandits } from './worker/serve.js';
export { REMOTE_METHODS, REMOTE_PROPERTIES, STATIC_METHODS, CALLBACK_OPTIONS } from './worker/protocol.js';
export type {
  ModelKind, Endpoint, EndpointMessage, RemoteMethod, RemoteProperty, StaticMethod, CallbackOption, WorkerModels, WorkerModel, MethodsOf,
  Sendable, SendableArgs, Portable,
} from './worker/protocol.js';
