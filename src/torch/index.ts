/**
 * PyTorch's file format without Python: `readTorchFile` (any `torch.save` zip, allowlisted pickle globals only)
 * and `writeTorchStateDict`. Browser-safe.
 */
export { TorchFileError } from './errors.js';
export { readTorchFile, type StateDictTensor, writeTorchStateDict } from './file.js';
export { isTorchTensor, type TensorData, type TorchDtype, type TorchTensor, toFloat32 } from './tensor.js';
