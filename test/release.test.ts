// What a release rests on: the notes come from CHANGELOG.md (scripts/release-notes.mjs refuses a
// tag without a dated section, or one that package.json disagrees with), and the README's
// `uses:` line names the major tag the release workflow moves for the newest CHANGELOG version.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ROOT } from '../scripts/action-docs.js';
import { releaseNotes } from '../scripts/release-notes.mjs';

const CHANGELOG = `# Changelog

## [1.1.0] - Unreleased

- later

## [1.0.1] - 2026-12-24

### Fixed

- the thing

[1.0.1]: https://example.invalid/compare/v1.0.0...v1.0.1

## [1.0.0] - 2026-12-01

- first
`;

describe('release notes', () => {
  it("are the tagged version's section of CHANGELOG.md", () => {
    expect(releaseNotes(CHANGELOG, 'v1.0.1', '1.0.1')).toBe('### Fixed\n\n- the thing');
    expect(releaseNotes(CHANGELOG, 'v1.0.0', '1.0.0')).toBe('- first');
  });

  it('refuse tags that are not vX.Y.Z, disagree with package.json, or have no dated section', () => {
    expect(() => releaseNotes(CHANGELOG, 'v1.0', '1.0.0')).toThrow(/not a release tag \(vX\.Y\.Z/);
    expect(() => releaseNotes(CHANGELOG, 'v1.0.1', '1.0.0')).toThrow(/package\.json says version 1\.0\.0/);
    expect(() => releaseNotes(CHANGELOG, 'v2.0.0', '2.0.0')).toThrow(
      /no '## \[2\.0\.0\] - YYYY-MM-DD' section/,
    );
    expect(() => releaseNotes(CHANGELOG, 'v1.1.0', '1.1.0')).toThrow(/has no release date/);
  });

  it("the README's uses: line is the major tag of the newest CHANGELOG version", () => {
    const changelog = readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8');
    const newest = /^## \[?(\d+)\.\d+\.\d+\]?/m.exec(changelog)?.[1];
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const uses = [...readme.matchAll(/uses: simnas\/simnas@(v[\w.]+)/g)].map((match) => match[1]);
    expect(uses.length).toBeGreaterThan(0);
    expect(new Set(uses)).toEqual(new Set([`v${newest}`]));
  });
});
