import { join } from 'node:path';
import { WeftError } from '@weft/core';
import { z } from 'zod';
import { ARCHIVE_DIR, archiveFiles, ensurePrivateDir, narrowToOwner, readOptional, removeTemporaryFiles, rootFiles, rootIdsIn, STATE_FILE, writeDurably } from './ca-files.js';
import { certificateInfo, type CertificateInfo } from './certificate-info.js';
import type { Signer } from './issue.js';
import { createRoot, loadRoot, rootIdOf, rootSigner, type Root } from './root.js';
import type { CaSource, RotationPhase, RotationStep } from './types.js';

const RootId = z.string().regex(/^[0-9a-f]{16}$/);

/**
 * `state.json`: the roots in trust order (oldest first) and the one that signs. Invariants
 * by phase: `idle` one root, signing; `introduced` two, the first signing; `activated`
 * two, the second signing. `retired` lists roots taken out of the bundle (their files are
 * in `archive/`).
 */
const StateSchema = z
  .strictObject({
    version: z.literal(1),
    phase: z.enum(['idle', 'introduced', 'activated']),
    roots: z.array(RootId).min(1).max(2),
    signing: RootId,
    retired: z.array(z.strictObject({ id: RootId, at: z.iso.datetime() })).max(1000),
  })
  .superRefine((s, ctx) => {
    const [first, second] = s.roots;
    const ok =
      (s.phase === 'idle' && s.roots.length === 1 && s.signing === first) ||
      (s.phase === 'introduced' && s.roots.length === 2 && s.signing === first && second !== first) ||
      (s.phase === 'activated' && s.roots.length === 2 && s.signing === second && second !== first);
    if (!ok) ctx.addIssue({ code: 'custom', message: `roots and signing do not fit phase ${s.phase}` });
  });
type State = z.infer<typeof StateSchema>;

const filesInvalid = (file: string, why: string): WeftError => new WeftError('WEFT_ERR_CA_FILES_INVALID', `${file}: ${why}`, { file });

const orderError = (message: string): WeftError => new WeftError('WEFT_ERR_CA_ROTATION_ORDER', message);

/**
 * The self-managed CA: its roots in `<dataDir>/ca/` and the rotation state machine over
 * them. Each step writes the new state with one atomic rename, after any new files and
 * before removing old ones, so that a crash at any point reopens in the phase before the
 * step or the phase after it: files no state names are archived on open (and the
 * authority rewrites the trust bundle file from the state).
 */
export class SelfManagedCa implements CaSource {
  readonly mode = 'self-managed' as const;
  readonly #dir: string;
  readonly #trustDomain: string;
  readonly #clock: () => Date;
  #state: State;
  #roots: ReadonlyMap<string, Root>;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, trustDomain: string, clock: () => Date, state: State, roots: ReadonlyMap<string, Root>) {
    this.#dir = dir;
    this.#trustDomain = trustDomain;
    this.#clock = clock;
    this.#state = state;
    this.#roots = roots;
  }

  /** Opens the CA in `dir` (`<dataDir>/ca`), creating its first root on first use. */
  static async open(dir: string, trustDomain: string, clock: () => Date): Promise<SelfManagedCa> {
    await ensurePrivateDir(dir);
    await removeTemporaryFiles(dir);
    const stateFile = join(dir, STATE_FILE);
    const text = await readOptional(stateFile);
    let state: State;
    let roots: Map<string, Root>;
    if (text === undefined) {
      // No state: nothing was ever issued from this directory. Root files here are from
      // an interrupted first start; they are archived, never deleted.
      await archiveFiles((await rootIdsIn(dir)).flatMap((id) => Object.values(rootFiles(dir, id))), join(dir, ARCHIVE_DIR));
      const root = await writeNewRoot(dir, trustDomain, clock());
      state = { version: 1, phase: 'idle', roots: [root.id], signing: root.id, retired: [] };
      await writeDurably(stateFile, `${JSON.stringify(state, null, 2)}\n`);
      roots = new Map([[root.id, root]]);
    } else {
      state = parseState(stateFile, text);
      roots = new Map();
      for (const id of state.roots) roots.set(id, await readRoot(dir, id));
      const stray = (await rootIdsIn(dir)).filter((id) => !roots.has(id));
      await archiveFiles(stray.flatMap((id) => Object.values(rootFiles(dir, id))), join(dir, ARCHIVE_DIR));
    }
    return new SelfManagedCa(dir, trustDomain, clock, state, roots);
  }

  signer(): Signer {
    return rootSigner(this.#root(this.#state.signing));
  }

  anchors(): readonly CertificateInfo[] {
    return this.#state.roots.map((id) => this.#root(id).info);
  }

  signingAnchor(): CertificateInfo {
    return this.#root(this.#state.signing).info;
  }

  intermediates(): readonly CertificateInfo[] {
    return [];
  }

  phase(): RotationPhase {
    return this.#state.phase;
  }

  /** Performs one step, after any step still running; a repeat of the step just done changes nothing (false). */
  rotate(step: RotationStep): Promise<boolean> {
    const run = this.#queue.then(() => this.#step(step));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #step(step: RotationStep): Promise<boolean> {
    const s = this.#state;
    switch (step) {
      case 'introduce': {
        if (s.phase === 'introduced') return false;
        if (s.phase === 'activated') throw orderError('the new root already signs: retire the old root first (weft ca rotate --step retire), then a new rotation can begin');
        const root = await writeNewRoot(this.#dir, this.#trustDomain, this.#clock());
        await this.#commit({ ...s, phase: 'introduced', roots: [s.signing, root.id] }, new Map([...this.#roots, [root.id, root]]));
        return true;
      }
      case 'activate': {
        if (s.phase === 'activated') return false;
        if (s.phase === 'idle') throw orderError('no new root to activate: introduce one first (weft ca rotate --step introduce)');
        await this.#commit({ ...s, phase: 'activated', signing: s.roots[1] ?? s.signing }, this.#roots);
        return true;
      }
      case 'retire': {
        if (s.phase === 'idle' && s.retired.length > 0) return false;
        if (s.phase === 'idle') throw orderError('no rotation in progress: there is no old root to retire');
        if (s.phase === 'introduced') throw orderError('the new root does not sign yet: activate it first (weft ca rotate --step activate), and retire the old root once every workload has a certificate from the new one');
        const old = s.roots[0] ?? '';
        const roots = new Map(this.#roots);
        roots.delete(old);
        await this.#commit({ ...s, phase: 'idle', roots: [s.signing], retired: [...s.retired, { id: old, at: this.#clock().toISOString() }] }, roots);
        await archiveFiles(Object.values(rootFiles(this.#dir, old)), join(this.#dir, ARCHIVE_DIR));
        return true;
      }
    }
  }

  /** Makes `state` durable, then current. */
  async #commit(state: State, roots: ReadonlyMap<string, Root>): Promise<void> {
    await writeDurably(join(this.#dir, STATE_FILE), `${JSON.stringify(StateSchema.parse(state), null, 2)}\n`);
    this.#state = state;
    this.#roots = roots;
  }

  #root(id: string): Root {
    const r = this.#roots.get(id);
    if (r === undefined) throw new Error(`root ${id} is named by the state but not loaded`);
    return r;
  }
}

const parseState = (file: string, text: string): State => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw filesInvalid(file, 'is not JSON; restore it from a backup (the roots are the root-<id>.crt files beside it)');
  }
  const r = StateSchema.safeParse(json);
  if (!r.success) throw filesInvalid(file, `is not a valid CA state: ${r.error.issues.map((i) => `${i.path.join('.') || 'state'}: ${i.message}`).join('; ')}`);
  return r.data;
};

/** Generates a root and writes its key, then its certificate, each crash-safely. */
const writeNewRoot = async (dir: string, trustDomain: string, now: Date): Promise<Root> => {
  const created = await createRoot(trustDomain, now);
  const id = rootIdOf(certificateInfo(created.certPem));
  const files = rootFiles(dir, id);
  await writeDurably(files.key, created.keyPem);
  await writeDurably(files.cert, created.certPem);
  return loadRoot(created.certPem, created.keyPem, files);
};

/** Reads and checks the root `id` that the state names. */
const readRoot = async (dir: string, id: string): Promise<Root> => {
  const files = rootFiles(dir, id);
  const certPem = await readOptional(files.cert);
  const keyPem = await readOptional(files.key);
  if (certPem === undefined) throw filesInvalid(files.cert, `is missing, but ${STATE_FILE} names root ${id} as trusted`);
  if (keyPem === undefined) throw filesInvalid(files.key, `is missing, but ${STATE_FILE} names root ${id} as trusted`);
  await narrowToOwner(files.key);
  const root = await loadRoot(certPem, keyPem, files);
  if (root.id !== id) throw filesInvalid(files.cert, `holds the root with id ${root.id}, not ${id}`);
  return root;
};
