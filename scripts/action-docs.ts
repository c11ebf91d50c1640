// The README's inputs and outputs tables, generated from action.yml so the two cannot drift:
// `npm run docs` rewrites the text between the `<!-- action-inputs -->` / `<!-- action-outputs -->`
// markers and their `<!-- /... -->` ends; test/action-docs.test.ts fails when README.md is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface ActionField {
  readonly description?: string;
  readonly default?: string;
}

export interface ActionMetadata {
  readonly inputs: Readonly<Record<string, ActionField>>;
  readonly outputs: Readonly<Record<string, ActionField>>;
}

export function readActionMetadata(
  text = readFileSync(path.join(ROOT, 'action.yml'), 'utf8'),
): ActionMetadata {
  const parsed = parse(text) as Partial<ActionMetadata> | null;
  return { inputs: parsed?.inputs ?? {}, outputs: parsed?.outputs ?? {} };
}

/** Table cell text: one line, pipes escaped, so a description cannot break the table. */
function cell(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replaceAll('|', '\\|');
}

function defaultText(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  return `\`${cell(String(value))}\``;
}

export function inputsTable(metadata: ActionMetadata): string {
  const rows = Object.entries(metadata.inputs).map(
    ([name, field]) => `| \`${name}\` | ${defaultText(field.default)} | ${cell(field.description ?? '')} |`,
  );
  return ['| input | default | what it does |', '|---|---|---|', ...rows].join('\n');
}

export function outputsTable(metadata: ActionMetadata): string {
  const rows = Object.entries(metadata.outputs).map(
    ([name, field]) => `| \`${name}\` | ${cell(field.description ?? '')} |`,
  );
  return ['| output | what it holds |', '|---|---|', ...rows].join('\n');
}

/** `readme` with both generated blocks replaced; throws when a marker pair is missing. */
export function renderReadme(readme: string, metadata: ActionMetadata): string {
  const blocks: Record<string, string> = {
    'action-inputs': inputsTable(metadata),
    'action-outputs': outputsTable(metadata),
  };
  let text = readme;
  for (const [name, table] of Object.entries(blocks)) {
    const pattern = new RegExp(`(<!-- ${name} -->\\n)[\\s\\S]*?(<!-- /${name} -->)`);
    if (!pattern.test(text))
      throw new Error(`README.md lacks the <!-- ${name} --> ... <!-- /${name} --> markers`);
    text = text.replace(pattern, (_match, start: string, end: string) => `${start}${table}\n${end}`);
  }
  return text;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = path.join(ROOT, 'README.md');
  const before = readFileSync(file, 'utf8');
  const after = renderReadme(before, readActionMetadata());
  if (after !== before) writeFileSync(file, after);
  console.log(
    after === before ? 'README.md tables are current' : 'README.md tables rewritten from action.yml',
  );
}
