// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** src/ folders (and root modules) each layer may import, besides its own files. */
const LAYERS = {
  core: [],
  ical: ['core', 'errors'],
  graph: ['core', 'errors'],
  storage: ['core', 'errors'],
  emulator: ['core', 'errors'],
  feeds: ['core', 'errors', 'config', 'ical'],
  sync: ['core', 'errors', 'config', 'events', 'feeds', 'graph', 'ical', 'storage'],
  admin: ['core', 'errors', 'config', 'events', 'feeds', 'graph', 'ical', 'storage', 'sync', 'calendar'],
  calendar: ['core', 'errors', 'config', 'events', 'storage'],
  attendance: ['core', 'errors', 'config', 'events', 'graph', 'storage', 'admin'],
};
const SRC_MODULES = [
  'core',
  'ical',
  'graph',
  'storage',
  'emulator',
  'feeds',
  'sync',
  'admin',
  'calendar',
  'attendance',
  'http',
  'cli',
  'web',
  'dev',
  'handlers',
  'errors',
  'config',
  'events',
  'compose',
  'cli',
];

function layerRules() {
  return Object.entries(LAYERS).map(([layer, allowed]) => {
    const forbidden = [...new Set(SRC_MODULES)].filter((m) => m !== layer && !allowed.includes(m));
    // `../x` from src/<layer>/file.ts and `../../x` from one folder deeper; `.js` for root modules.
    const groups = forbidden.flatMap((m) => [
      `../${m}`,
      `../${m}/*`,
      `../${m}.js`,
      `../../${m}`,
      `../../${m}/*`,
      `../../${m}.js`,
    ]);
    return {
      files: [`src/${layer}/**/*.ts`],
      rules: {
        // Use cases may name the services' type (compose.ts builds them) but never build them.
        '@typescript-eslint/no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                group: groups.filter((g) => !/compose/.test(g)),
                message: `src/${layer} may import only ${allowed.length ? allowed.join(', ') : 'its own files'} (layers point inwards: see eslint.config.js)`,
              },
              ...(['admin', 'calendar', 'attendance'].includes(layer)
                ? [
                    {
                      group: ['../compose.js', '../../compose.js'],
                      allowTypeImports: true,
                      message: `src/${layer} may use the services' type only: compose.ts is the only place SDK clients are built`,
                    },
                  ]
                : [
                    {
                      group: ['../compose.js', '../../compose.js'],
                      message: `src/${layer} may not import compose.ts: dependencies come in as parameters`,
                    },
                  ]),
            ],
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/**', 'coverage/**', '.bench/**', 'test-results/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layers: imports point inwards only (entry points → use cases → adapters → core). Each layer lists
  // what it may import of ours; anything else under src/ is refused. test/unit/layers.test.ts shows a
  // forbidden import failing.
  ...layerRules(),
  { files: ['eslint.config.js', 'scripts/**/*.mjs'], extends: [tseslint.configs.disableTypeChecked] },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { URL: 'readonly', console: 'readonly', process: 'readonly' } },
  },
  // The admin page's scripts: browser JavaScript (native ES modules), type-checked through their JSDoc by
  // tsconfig.web.json, which the type-aware rules use too (the main project does not take .js files).
  // Their globals are listed here, the browser's the scripts use (`globals` is no dependency of ours).
  {
    files: ['src/web/assets/script/*.js'],
    languageOptions: {
      sourceType: 'module',
      parserOptions: {
        projectService: false,
        project: './tsconfig.web.json',
        tsconfigRootDir: import.meta.dirname,
      },
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        navigator: 'readonly',
        sessionStorage: 'readonly',
        fetch: 'readonly',
        HTMLElement: 'readonly',
        HTMLInputElement: 'readonly',
        HTMLTextAreaElement: 'readonly',
        HTMLButtonElement: 'readonly',
      },
    },
  },
);
