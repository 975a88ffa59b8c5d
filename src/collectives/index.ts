export { Communicator, type CommunicatorOptions } from './communicator.js';
export { OperandMismatchError } from './errors.js';
export { ALGORITHMS, COLLECTIVES, select, applicable, overrideVariable, type Algorithm, type Collective } from './select.js';
export { readOverrides, type Overrides } from './overrides.js';
export { resolveOp, BUILTIN_OPS } from './ops.js';
export type { ReduceArray, Op, UserOp, BuiltinOpName, CallOptions, AllreduceOptions } from './types.js';
