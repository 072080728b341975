/**
 * What a command writes to and reads from, and the exit statuses: shared by cli/main.ts and the
 * command modules, so a command can be tested with a fake io and no process around it.
 */
export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: NodeJS.ProcessEnv
}

/** Exit statuses (also listed in --help). */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
