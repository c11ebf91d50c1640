// Child-process driver for test/support-servers.test.ts: performs real @actions/cache and
// @actions/github calls, given as a JSON list of steps in argv[2], and prints one
// `simnas-step <json>` line per step. It runs as its own process because both libraries read their
// environment (service URLs, tokens) when first imported; it lives in the repo, not a temp folder,
// so the bare imports resolve to this checkout's node_modules whatever the working directory.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const RESULT_PREFIX = 'simnas-step ';

async function perform(step) {
  switch (step.op) {
    case 'write': {
      await mkdir(path.dirname(step.path), { recursive: true });
      await writeFile(step.path, Buffer.from(step.base64, 'base64'));
      return null;
    }
    case 'read':
      try {
        return (await readFile(step.path)).toString('base64');
      } catch {
        return null;
      }
    case 'remove':
      await rm(step.path, { recursive: true, force: true });
      return null;
    case 'save': {
      const cache = await import('@actions/cache');
      return await cache.saveCache(step.paths, step.key);
    }
    case 'restore': {
      const cache = await import('@actions/cache');
      return (await cache.restoreCache(step.paths, step.key, step.restoreKeys ?? [])) ?? null;
    }
    case 'azure-upload': {
      // The SDK @actions/cache uses for v2 uploads, forced into staged blocks + block list, which
      // the library itself only does above 128 MiB.
      const { BlockBlobClient } = await import('@azure/storage-blob');
      const blob = new BlockBlobClient(step.url);
      const response = await blob.uploadData(Buffer.from(step.base64, 'base64'), {
        maxSingleShotSize: step.maxSingleShotSize,
        blockSize: step.blockSize,
        concurrency: 2,
      });
      return { status: response._response.status };
    }
    case 'azure-download': {
      // The SDK's own download path (getProperties, then ranged GETs with x-ms-range).
      const { BlobClient } = await import('@azure/storage-blob');
      const buffer = await new BlobClient(step.url).downloadToBuffer(0, undefined, {
        blockSize: step.blockSize,
        concurrency: 2,
      });
      return buffer.toString('base64');
    }
    case 'list-comments': {
      const octokit = await client(step.token);
      const comments = await octokit.paginate(octokit.rest.issues.listComments, {
        owner: step.owner,
        repo: step.repo,
        issue_number: step.issue,
      });
      return comments.map((comment) => ({ id: comment.id, body: comment.body, login: comment.user?.login }));
    }
    case 'create-comment': {
      const octokit = await client(step.token);
      const { status, data } = await octokit.rest.issues.createComment({
        owner: step.owner,
        repo: step.repo,
        issue_number: step.issue,
        body: step.body,
      });
      return { status, id: data.id, html_url: data.html_url, body: data.body };
    }
    case 'update-comment': {
      const octokit = await client(step.token);
      const { status, data } = await octokit.rest.issues.updateComment({
        owner: step.owner,
        repo: step.repo,
        comment_id: step.id,
        body: step.body,
      });
      return { status, id: data.id, body: data.body, updated_at: data.updated_at };
    }
    case 'request': {
      const octokit = await client(step.token);
      const { status } = await octokit.request(step.route, step.parameters ?? {});
      return { status };
    }
    default:
      throw new Error(`libs-client: unknown step ${JSON.stringify(step)}`);
  }
}

async function client(token) {
  const { getOctokit } = await import('@actions/github');
  return getOctokit(token);
}

const steps = JSON.parse(process.argv[2] ?? '[]');
for (const step of steps) {
  let outcome;
  try {
    outcome = { ok: true, value: await perform(step) };
  } catch (error) {
    outcome = { ok: false, name: error?.name, message: error?.message, status: error?.status };
  }
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(outcome)}\n`);
}
