// vision: observation encoders built with nn (ViT, tubelet ViT, CNN baseline; text and audio encoders for the shared
// embedding space), camera composition, preprocessing and augmentation of camera frames, and the per-control-step
// feature cache.
export type { ImageEncoder } from "./encoder.ts";
export type { ConditionedImageEncoder } from "./conditioned.ts";
export { isConditioned, addGroupEmbedding, expectImages } from "./conditioned.ts";
export { Conv2d, PatchifyConv, im2col2d, convOutputSize } from "./conv2d.ts";
export type { Conv2dOptions } from "./conv2d.ts";
export { SpatialSoftmax } from "./spatial-softmax.ts";
export { TransformerBlock } from "./transformer-block.ts";
export { vitConfigSchema, tubeletConfigSchema } from "./vit-config.ts";
export type { VitConfig, VitConfigInput, TubeletConfig, TubeletConfigInput } from "./vit-config.ts";
export { VitCore, VitEncoder, IMAGE_CHANNELS } from "./vit.ts";
export { TubeletEncoder } from "./tubelet.ts";
export { cnnConfigSchema } from "./cnn-config.ts";
export type { CnnConfig, CnnConfigInput } from "./cnn-config.ts";
export { CnnEncoder, ResidualBlock2d } from "./cnn.ts";
export { encoderConfigSchema, ENCODER_PRESETS, createEncoder, encoderPreset } from "./registry.ts";
export type { EncoderConfig, EncoderConfigInput, EncoderPreset } from "./registry.ts";
export { MultiCameraEncoder, multiCameraConfigSchema } from "./multi-camera.ts";
export type { MultiCameraConfig, MultiCameraConfigInput } from "./multi-camera.ts";
export { preprocessConfigSchema } from "./preprocess-config.ts";
export type { PreprocessConfig, PreprocessConfigInput } from "./preprocess-config.ts";
export { ImagePreprocessor, newAugmentParams } from "./preprocess.ts";
export type { AugmentParams } from "./preprocess.ts";
export { FeatureCache } from "./feature-cache.ts";
export { matmulFlops, encoderCost } from "./flops.ts";
export { ByteTokenizer, InstructionError, TEXT_VOCAB, PAD_TOKEN, BOS_TOKEN, EOS_TOKEN } from "./tokenizer.ts";
export type { TokenBatch } from "./tokenizer.ts";
export { TextTransformer, textEncoderConfigSchema } from "./text-encoder.ts";
export type { TextEncoderConfig, TextEncoderConfigInput } from "./text-encoder.ts";
export { LogMelSpectrogram, AudioError, spectrogramConfigSchema } from "./spectrogram.ts";
export type { Spectrogram, SpectrogramConfig, SpectrogramConfigInput } from "./spectrogram.ts";
export { AudioEncoder, AUDIO_DEFAULTS } from "./audio-encoder.ts";
export { SoundWindow, EpisodeSound, scalarNormalisation } from "./sound-window.ts";
