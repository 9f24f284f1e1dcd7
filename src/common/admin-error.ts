/** A refused management operation (CLI, admin services); its message is meant for the operator. */
export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}
