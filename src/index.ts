// 'webgpu-bandits': the models, createBackend, the errors and the types they take and return.
// Kernels are in 'webgpu-bandits/ops', the simulator in '/sim', evaluation in '/eval'.
export { createBackend, type CreateBackendOptions } from './backend.js';
export { BanditError, BackendError } from './core/errors.js';
export type { AdapterDescription } from './core/tensor.js';
export { Tensor } from './core/tensor.js';
export type { Backend, BackendInfo } from './core/backend.js';
export type { DType, HostArray, TensorOptions } from './core/tensor.js';
export { LinUCB, type LinUCBOptions, type LinUCBDiagnostics } from './linucb/linucb.js';
export {
  HybridLinUCB, type HybridLinUCBOptions, type HybridLinUCBDiagnostics, type HybridContexts,
} from './linucb/hybrid.js';
export { NeuralUCB, type NeuralUCBOptions, type NeuralUCBDiagnostics } from './neural/neuralucb.js';
export {
  EmbeddingMLP, type EmbeddingMLPOptions, type InteractionLog, type FitOptions, type EmbeddingMLPGradients,
} from './neural/embedding-mlp.js';
export { ModelStore, ModelStoreError, type StoredModelInfo, type ModelStoreOptions } from './store/model-store.js';
export { BanditWorker, type RemoteModel, type WorkerModels, type BanditWorkerOptions } from './worker/client.js';
export { serveBandits } from './worker/serve.js';
export type { ModelKind, Endpoint, EndpointMessage, RemoteMethod } from './worker/protocol.js';
