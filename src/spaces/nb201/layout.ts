// The NB201 macro-network hyper-parameters, shared by the ONNX builder and the cost arithmetic
// (kept apart so cost counting never loads the protobuf code).

/** Channels of the stem and of the first stage (NB201's C). */
export const STEM_CHANNELS = 16;
/** Cells per stage (NB201's N). */
export const CELLS_PER_STAGE = 5;
/** Channels of the three stages; a stride-2 reduction block sits between consecutive stages. */
export const STAGE_CHANNELS = [16, 32, 64] as const;
export const BATCH_NORM_EPSILON = 1e-5;
