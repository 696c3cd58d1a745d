/**
 * Help text wrapped to the terminal for every `evs` command. commander wraps a
 * description only when at least `minWidthToWrap` columns are left beside the
 * option column; `evs node`'s longest flag takes 41, so on an 80-column
 * terminal commander printed every description on one unwrapped line. Here,
 * when the column beside the terms is too narrow, each description goes on
 * the lines below its term instead (as git's help does), wrapped to the
 * terminal's width. Off a terminal commander assumes 80 columns.
 */
import { Help, type Command, type HelpConfiguration } from 'commander';

/** narrower than this beside the terms, descriptions move below them. */
const sideBySideColumnsMin = 36;
/** indent of a description printed below its term. */
const belowIndent = 8;

const helpFormat: HelpConfiguration = {
  minWidthToWrap: 20,
  formatItem(this: Help, term: string, termWidth: number, description: string, helper: Help): string {
    const width = helper.helpWidth ?? 80;
    const besideColumns = width - termWidth - 4; // the item indent and the spacer, 2 each
    if (description === '' || besideColumns >= sideBySideColumnsMin || helper.preformatted(description)) {
      return Help.prototype.formatItem.call(this, term, termWidth, description, helper);
    }
    const wrapped = helper.boxWrap(description, Math.max(width - belowIndent, helper.minWidthToWrap));
    const pad = ' '.repeat(belowIndent);
    return `  ${term}\n${pad}${wrapped.replace(/\n/g, `\n${pad}`)}`;
  },
};

/** applies the format to `command` and every subcommand (commander's addCommand does not pass it down). */
export function wrapHelpToTerminal(command: Command): Command {
  command.configureHelp(helpFormat);
  for (const sub of command.commands) wrapHelpToTerminal(sub);
  return command;
}
