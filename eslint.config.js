// Lint exists for one rule above all: the protocol core and the wire codec are
// sans-IO. They never read a clock, a socket, the disk or Math.random; time and
// randomness are passed in. That is what lets the simulator replay a seed exactly.
import tseslint from 'typescript-eslint';

// Imports point down the layers: the core (src/protocol, src/wire, src/groups)
// below the runtime (src/runtime) below the facade (src/node.ts, src/handle.ts,
// src/index.ts) and the CLI (src/cli). src/errors.ts, src/limits.ts and
// src/options.ts import nothing from the runtime, so every layer may use them.
// Matched on the import string: from inside src/<layer>/, a sibling layer is
// '../<layer>/' (or further up, '../../<layer>/').
const upward = (target, message) => ({ regex: `^(\\.\\./)+${target}`, message });
const intoRuntime = upward('runtime(/|$)', 'the protocol core (src/protocol, src/wire, src/groups) never imports src/runtime: pass what it needs in.');
const intoCli = upward('cli(/|$)', 'src/cli is the top layer: nothing in src/protocol, src/wire, src/groups or src/runtime imports it.');
const intoFacade = upward('(node|handle|index)\\.ts$', 'the facade (src/node.ts, src/handle.ts, src/index.ts) sits above the core and the runtime: they never import it.');

const sansIo = {
  'no-restricted-imports': ['error', {
    patterns: [
      { group: ['node:*'], message: 'src/protocol, src/wire and src/groups are sans-IO: no node:* imports.' },
      intoRuntime,
      intoCli,
      intoFacade,
    ],
  }],
  'no-restricted-globals': ['error',
    { name: 'Date', message: 'sans-IO: time is passed in as `now`.' },
    { name: 'setTimeout', message: 'sans-IO: timers are data (TimerTable).' },
    { name: 'setInterval', message: 'sans-IO: timers are data (TimerTable).' },
    { name: 'setImmediate', message: 'sans-IO: timers are data (TimerTable).' },
    { name: 'clearTimeout', message: 'sans-IO: timers are data (TimerTable).' },
    { name: 'performance', message: 'sans-IO: time is passed in as `now`.' },
    { name: 'process', message: 'sans-IO: no process access in the core.' },
    { name: 'require', message: 'sans-IO: no dynamic loading in the core.' },
  ],
  // import() is loading at run time, and the import rules above do not see it
  'no-restricted-syntax': ['error', { selector: 'ImportExpression', message: 'sans-IO: no dynamic import() in the core.' }],
  'no-restricted-properties': ['error',
    { object: 'Math', property: 'random', message: 'sans-IO: randomness is passed in.' },
    { object: 'Date', property: 'now', message: 'sans-IO: time is passed in as `now`.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module' } },
    rules: { 'no-debugger': 'error', 'no-var': 'error', 'prefer-const': 'error', eqeqeq: ['error', 'always'] },
  },
  { files: ['src/protocol/**/*.ts', 'src/wire/**/*.ts', 'src/groups/**/*.ts'], rules: sansIo },
  { files: ['src/runtime/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [intoCli, intoFacade] }] } },
);
