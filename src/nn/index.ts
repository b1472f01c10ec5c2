// nn: define a network once; emit its inference graph and its training graph (autodiff + fused AdamW) as ONNX.
export { GraphBuilder, ShapeError } from "./graph.ts";
export type { Operand, ParamInit, ParamSpec, InputOptions } from "./graph.ts";
export type { Tensor, Node, OpType, DType } from "./tensor.ts";
export { numel } from "./tensor.ts";
export { ParamLayout } from "./params.ts";
export type { ParamEntry } from "./params.ts";
export { toOnnx, float16Bits, OPSET, BATCH_DIM } from "./onnx.ts";
export type { OnnxModel, ValueSpec, EmitOptions, ParamSource, WeightPrecision } from "./onnx.ts";
export { inferenceModel } from "./inference.ts";
export { readOnnxParams, float16Value, onnxOpCounts, paramsByName } from "./onnx-params.ts";
export type { StoredParam } from "./onnx-params.ts";
export type { InferenceOptions } from "./inference.ts";
export { backward, gradRules, sumTo } from "./autodiff.ts";
export type { GradRule } from "./autodiff.ts";
export {
  mseLoss,
  crossEntropy,
  softCrossEntropy,
  infoNce,
  logitScale,
  oneHot,
  l2Normalize,
  CLIP_INIT_TEMPERATURE,
  CLIP_MAX_LOGIT_SCALE,
} from "./losses.ts";
export type { InfoNceOptions } from "./losses.ts";
export { buildTrainingGraph, TrainingGraph, NonFiniteLossError, TRAIN_IO } from "./training.ts";
export type { AdamWOptions, TrainingProgram, TrainState, StepResult } from "./training.ts";
// Declared once in core (runtime's Session is the real Executor); re-exported for nn's users.
export type { Executor, Fetches, TensorData } from "../core/index.ts";
export { cosineWithWarmup } from "./schedule.ts";
export type { CosineSchedule } from "./schedule.ts";
export { Ema, emaDecay } from "./ema.ts";
export type { EmaOptions } from "./ema.ts";
export {
  saveCheckpoint,
  loadCheckpoint,
  checkpointLayout,
  checkpointMetadata,
  CHECKPOINT_FORMAT,
} from "./checkpoint.ts";
export type { Checkpoint } from "./checkpoint.ts";
export type { Module } from "./modules/module.ts";
export { gelu, mish, silu, activate } from "./modules/activations.ts";
export type { Activation } from "./modules/activations.ts";
export { Linear } from "./modules/linear.ts";
export type { LinearOptions } from "./modules/linear.ts";
export { Conv1d, im2col } from "./modules/conv1d.ts";
export type { Conv1dOptions } from "./modules/conv1d.ts";
export { Upsample1d } from "./modules/upsample1d.ts";
export { GroupNorm } from "./modules/group-norm.ts";
export { LayerNorm } from "./modules/layer-norm.ts";
export { MultiHeadAttention } from "./modules/attention.ts";
export type { AttentionOptions } from "./modules/attention.ts";
export { Mlp } from "./modules/mlp.ts";
export { Embedding, sinusoidalEmbedding } from "./modules/embedding.ts";
export { dropout } from "./modules/dropout.ts";
export { Film, type FilmCondition } from "./modules/film.ts";
export { PatchEmbed } from "./modules/patch-embed.ts";
