// encoders: observation encoders built with nn, by modality: image/ (ViT, tubelet ViT, CNN baseline, preprocessing and
// augmentation of camera frames), text/ (byte and hashed-word tokenizers, causal text transformer) and audio/ (log-mel spectrogram,
// spectrogram transformer, sound windows); the registry of image encoders by name, and their cost.
export type { ImageEncoder } from "./image/encoder.ts";
export type { VitConfigInput } from "./image/vit-config.ts";
export { VitEncoder } from "./image/vit.ts";
export { encoderRefSchema, createEncoder } from "./registry.ts";
export type { EncoderRef } from "./registry.ts";
export { ImagePreprocessor } from "./image/preprocess.ts";
export { matmulFlops, encoderCost } from "./flops.ts";
export { InstructionTooLong } from "./text/tokenizer.ts";
export type { TokenBatch, Tokenizer } from "./text/tokenizer.ts";
export { ByteTokenizer } from "./text/byte-tokenizer.ts";
export { tokenizerFor } from "./text/tokenizer-for.ts";
export { TextTransformer, textEncoderConfigSchema } from "./text/text-encoder.ts";
export type { TextEncoderConfig, TextEncoderConfigInput } from "./text/text-encoder.ts";
export { AudioEncoder } from "./audio/audio-encoder.ts";
export { SoundWindow, EpisodeSound, scalarNormalisation } from "./audio/sound-window.ts";
export { jitterImage } from "./image/jitter-image.ts";
export { shiftImage } from "./image/shift-image.ts";
