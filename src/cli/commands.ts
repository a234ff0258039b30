// The CLI's command table; each command lives in its own module.
export interface Command {
  name: string;
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const commands: Command[] = [];
