/**
 * `evs keygen`: a random cluster key in a new file of mode 0600 (corosync's
 * corosync-keygen). Every node of a cluster needs a copy of the same file.
 * An existing file is never replaced without --force: overwriting the key of
 * a running cluster splits it.
 */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { clusterKeyBytesMax, clusterKeyBytesMin } from '../../limits.ts';
import { clusterKeyBytesDefault, generateClusterKey, writeKeyFile } from '../../runtime/crypto/keyfile.ts';
import { EvsError } from '../../errors.ts';
import { UsageError, exitOnCommanderError, failAndExit } from './cli-error.ts';
import { numberOrText } from './node-options.ts';

export const keyFileDefault = './evs.key';

interface KeygenFlags {
  readonly out?: string;
  readonly bytes?: string;
  readonly force?: boolean;
}

export function keygenCommand(): Command {
  return new Command('keygen')
    .description('write a random cluster key to a new file with mode 0600; copy it to every node')
    .option('-o, --out <file>', `where to write the key (default: ${keyFileDefault})`)
    .option('--bytes <n>', `key length in bytes, ${clusterKeyBytesMin}..${clusterKeyBytesMax} (default: ${clusterKeyBytesDefault})`)
    .option('--force', 'replace an existing file (default: refuse)')
    .showHelpAfterError('(run `evs keygen --help` for every option)')
    .exitOverride(exitOnCommanderError)
    .action((flags: KeygenFlags) => {
      try {
        keygen(flags);
      } catch (error) {
        failAndExit('evs keygen', error);
      }
    });
}

function keygen(flags: KeygenFlags): void {
  const out = flags.out ?? keyFileDefault;
  const bytes = flags.bytes === undefined ? clusterKeyBytesDefault : numberOrText(flags.bytes);
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < clusterKeyBytesMin || bytes > clusterKeyBytesMax) {
    throw new UsageError(`--bytes must be an integer from ${clusterKeyBytesMin} to ${clusterKeyBytesMax} (got '${flags.bytes}')`);
  }
  try {
    writeKeyFile(out, generateClusterKey(bytes), { overwrite: flags.force === true });
  } catch (error) {
    if (error instanceof EvsError && error.code === 'ERR_EVS_KEY_FILE_EXISTS') {
      throw new UsageError(`${out} already exists; pass --force to replace it (every node of the cluster must then get the new key) or choose another --out`);
    }
    throw error;
  }
  // a status line, not data: stdout stays empty
  console.error(`wrote a ${bytes}-byte cluster key to ${resolve(out)} (mode 0600); copy it to every node and pass it as --key-file`);
}
