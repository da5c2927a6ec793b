// The one suite, run by mocha in Node (Dawn) and in headless Chromium (harness/).
import './fixture.js';
import './compare.spec.js';
import './backend.spec.js';
import './shaders.spec.js';
import './elementwise.spec.js';
import './gemm.spec.js';
import './quadform.spec.js';
import './rank1.spec.js';
import './argmax.spec.js';
import './cholesky.spec.js';
import './linucb-ops.spec.js';
import './neural-ops.spec.js';
import './train-ops.spec.js';
import './neuralucb.spec.js';
import './linucb.spec.js';
import './hybrid.spec.js';
