import { CareamicsError } from '../errors.js';

/** A PyTorch file that cannot be read or written; `global` names a refused pickle global (`os.system`). */
export class TorchFileError extends CareamicsError<'TorchFileError'> {
  readonly global?: string;

  constructor(message: string, options?: { cause?: unknown; global?: string }) {
    super('TorchFileError', message, options);
    this.global = options?.global;
  }
}
