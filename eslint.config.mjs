import tseslint from 'typescript-eslint';

const providerRoot = {
  name: '@cdktf/provider-aws',
  message:
    'Import the resource by deep path (@cdktf/provider-aws/lib/<resource>): the package root loads ~2,200 modules in every process.',
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/cdktf.out/**', 'dist/**', '.nx/**', '.venv/**', '**/*.js', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-restricted-imports': ['error', { paths: [providerRoot] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // DESIGN.md: config imports no other lib (every other lib depends on it).
    files: ['libs/config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [providerRoot], patterns: [{ group: ['@queue-lanes/*'], message: 'libs/config imports no other lib.' }] },
      ],
    },
  },
  {
    // The backlog controller ships as a Lambda zip: no cdktf in it.
    files: ['libs/backlog-controller/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [providerRoot],
          patterns: [{ group: ['cdktf', '@cdktf/*', 'constructs'], message: 'The controller runtime must not bundle cdktf.' }],
        },
      ],
    },
  },
);
