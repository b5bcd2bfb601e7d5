// System tools the tests need (the list and the apt line live in test/system-deps.ts).
// A missing tool fails loudly with the line that installs it; FACEGATE_TEST_ALLOW_MISSING=1 turns
// that into a skip, which node:test counts and prints at the end of the run.
import { test, type TestContext, type TestOptions } from 'node:test';
import { installLine, missingTools, type Tool } from '../system-deps.ts';

export type { Tool };

export class MissingToolError extends Error {
  override name = 'MissingToolError';
}

const allowMissing = process.env['FACEGATE_TEST_ALLOW_MISSING'] === '1';
const reported = new Set<string>();

function line(missing: readonly Tool[]): string {
  return `missing ${missing.join(', ')}: ${installLine(missing)} (or run npm test as root, whose pretest installs it)`;
}

/**
 * Test options for a test that needs `tools`. All present: none. Missing and opted out: a skip that
 * names the install line. Missing otherwise: a failing test with that line joins the file, and the
 * test itself runs (and fails where it reaches the tool).
 */
export function needs(...tools: Tool[]): TestOptions {
  const missing = missingTools(tools);
  if (missing.length === 0) return {};
  if (allowMissing) return { skip: `${line(missing)} [FACEGATE_TEST_ALLOW_MISSING=1]` };
  const key = missing.join(',');
  if (!reported.has(key)) {
    reported.add(key);
    test(`system tools present: ${key}`, () => {
      throw new MissingToolError(line(missing));
    });
  }
  return {};
}

/** Throws the one line when a tool is absent: for helpers that start a tool. */
export function requireTools(...tools: Tool[]): void {
  const missing = missingTools(tools);
  if (missing.length > 0) throw new MissingToolError(line(missing));
}

type TestFn = (t: TestContext) => void | Promise<void>;

export interface NeedingTest {
  (name: string, fn: TestFn): void;
  (name: string, options: TestOptions, fn: TestFn): void;
}

/** `test` for a file whose every test needs `tools`: `const test = testNeeding('ffmpeg');`. */
export function testNeeding(...tools: Tool[]): NeedingTest {
  return (name: string, a: TestOptions | TestFn, b?: TestFn): void => {
    const opts = typeof a === 'object' ? a : {};
    const fn = typeof a === 'function' ? a : b;
    void test(name, { ...needs(...tools), ...opts }, fn);
  };
}
