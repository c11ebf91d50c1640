// The release notes of one version, from CHANGELOG.md: `node scripts/release-notes.mjs v1.2.3`
// prints the text under `## [1.2.3] - YYYY-MM-DD` (up to the next `## ` heading). The release
// workflow runs it on a tag push; it fails, and so stops the release, when the tag is not vX.Y.Z,
// package.json holds another version, or CHANGELOG.md has no dated section for it.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * @param {string} changelog the text of CHANGELOG.md
 * @param {string} tag e.g. v1.2.3
 * @param {string} packageVersion the version in package.json
 * @returns {string} the section's body, trimmed
 */
export function releaseNotes(changelog, tag, packageVersion) {
  const version = /^v(\d+\.\d+\.\d+)$/.exec(tag)?.[1];
  if (!version) throw new Error(`tag '${tag}' is not a release tag (vX.Y.Z, e.g. v1.2.3)`);
  if (packageVersion !== version) {
    throw new Error(`tag ${tag} but package.json says version ${packageVersion}: bump package.json first`);
  }
  const sections = changelog.split(/^(?=## )/m);
  const escaped = version.replaceAll('.', '\\.');
  const section = sections.find((text) => new RegExp(`^## \\[?${escaped}\\]?(\\s|$)`).test(text));
  if (!section) throw new Error(`CHANGELOG.md has no '## [${version}] - YYYY-MM-DD' section`);
  const [heading = '', ...body] = section.split('\n');
  if (!/\d{4}-\d{2}-\d{2}/.test(heading)) {
    throw new Error(
      `CHANGELOG.md's '${heading.trim()}' has no release date (YYYY-MM-DD): date it before tagging`,
    );
  }
  const notes = body
    .join('\n')
    .replace(/^\[[^\]]+\]: \S+$/gm, '')
    .trim();
  if (!notes) throw new Error(`CHANGELOG.md's section for ${version} is empty`);
  return notes;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    process.stdout.write(
      `${releaseNotes(readFileSync('CHANGELOG.md', 'utf8'), process.argv[2] ?? '', pkg.version)}\n`,
    );
  } catch (error) {
    console.error(`release notes: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
