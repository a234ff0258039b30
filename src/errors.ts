// Errors for files that are not what they claim to be. The message always starts with the
// file, and names the tensor when one is at fault, so a user can act on it.

export class FormatError extends Error {
  readonly file: string;
  readonly tensor: string | undefined;

  constructor(file: string, message: string, tensor?: string) {
    super(`${file}: ${message}`);
    this.name = 'FormatError';
    this.file = file;
    this.tensor = tensor;
  }
}

/** Bad arguments or missing inputs (not a malformed file). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * An input a model cannot take (too long for it, a token id outside its vocabulary, no [MASK] to
 * fill): the CLI exits 2, the server answers 400.
 */
export class InputError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
