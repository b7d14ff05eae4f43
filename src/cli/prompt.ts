/**
 * Asking the person at the terminal: a line (echoed) or a secret (not echoed), on stderr so
 * that stdout stays the command's output; and reading a secret piped to stdin instead.
 * @module
 */
import { createInterface } from 'node:readline';
import { FerryError } from '../common/errors.js';

/** Whether there is a person to ask: stdin is a terminal. */
export function canPrompt(): boolean {
  return process.stdin.isTTY;
}

function cancelled(): FerryError {
  return new FerryError('OPERATION_FAILED', 'Cancelled at the prompt');
}

/** Asks for one line, echoed as typed. Precondition: {@link canPrompt}. */
export function promptLine(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    let answered = false;
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
    rl.once('close', () => {
      if (!answered) reject(cancelled());
    });
  });
}

/** Asks for a secret without echoing it (backspace works, Ctrl-C/Ctrl-D cancel). */
export function promptSecret(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let secret = '';
    const finish = (err: FerryError | undefined): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err === undefined) resolve(secret);
      else reject(err);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish(undefined);
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && secret === '')) {
          finish(cancelled());
          return;
        }
        if (ch === '\u007f' || ch === '\b') secret = Array.from(secret).slice(0, -1).join('');
        else if (ch >= ' ') secret += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Everything piped to stdin, less one final line break (`echo pw | ferry auth-add …`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
