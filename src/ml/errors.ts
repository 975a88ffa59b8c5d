// Typed errors of the ml workload. Every message says what was wrong and what to do about it.

/** Base class of every error raised by commune/ml. */
export class MlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A hyper-parameter or option has an invalid value or an unknown name. */
export class InvalidParameterError extends MlError {
  constructor(readonly parameter: string, message: string) {
    super(`invalid parameter '${parameter}': ${message}`);
  }
}

/** Input arrays have the wrong shape, length or content. */
export class InvalidInputError extends MlError {}

/** The data file is missing, unreadable or not the expected digits data. */
export class DataFileError extends MlError {
  constructor(readonly source: string, readonly line: number | undefined, message: string) {
    super(`${source}${line === undefined ? '' : `:${line}`}: ${message}`);
  }
}

/** `predict`/`score` was called on an estimator that has not been fitted. */
export class NotFittedError extends MlError {}
