import { type Command, InvalidArgumentError, Option } from 'commander';
import { WEEKDAYS } from '../../shared/domain/tenants/tenant.ts';
import { where, wholeNumber } from '../program.ts';

/**
 * `followback client …`, `followback account …` and `followback apply clients.yaml`: the agency's
 * clients (tenants) and their accounts, in the deployed table or, with --local, in the local store
 * of `npm start`. The actions load lazily (cli/commands/tenants/actions.ts).
 */

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const weekday = (value: string) => {
  const day = value.trim().toLowerCase().slice(0, 3);
  if (!(WEEKDAYS as readonly string[]).includes(day)) {
    throw new InvalidArgumentError(`--digest-day must be one of ${WEEKDAYS.join(', ')}, got "${value}"`);
  }
  return day;
};

const actions = () => import('./tenants/actions.ts');

function clientSettings(command: Command, required: boolean): Command {
  return command
    .option('--name <name>', 'the client name shown in the digest')
    .option(
      '--locale <tag>',
      'an English locale (the digest is written in English) for its dates and numbers, e.g. en-US (default en-GB)',
    )
    [required ? 'requiredOption' : 'option']('--time-zone <zone>', 'IANA time zone, e.g. Europe/Berlin')
    .option(
      '--digest-email <email>',
      required
        ? 'where the weekly digest goes (repeat for several)'
        : 'replaces the digest recipients (repeat for several)',
      collect,
    )
    .option(
      '--digest-day <day>',
      `local weekday of the digest (${WEEKDAYS.join(', ')}; default mon)`,
      weekday,
    )
    .option(
      '--digest-hour <hour>',
      'local hour of the digest, 0-23 (default 8)',
      wholeNumber('--digest-hour', 0, 23),
    );
}

function accountSettings(command: Command): Command {
  return command
    .option('--platform-user-id <id>', "the account's user id on the network, if known (connect learns it)")
    .addOption(new Option('--mode <mode>', 'follow-back mode').choices(['auto', 'approve', 'off']))
    .option(
      '--acknowledge-x-automation-policy',
      "X only: the owner accepts X's rules on automated following (needed for --mode auto on X)",
    )
    .option('--policy <json>', 'policy overrides as JSON, e.g. \'{"promise":{"withinHours":48}}\'')
    .option('--observe <json>', 'observe overrides as JSON, e.g. \'{"detectionDelayHours":12}\'');
}

export function register(program: Command): void {
  const client = program.command('client').description("the agency's clients (tenants)");
  where(clientSettings(client.command('add <id>').description('add a client'), true)).action(
    async (id, options) => (await actions()).clientAdd(id, options),
  );
  where(client.command('list').description('list the clients')).action(async (options) =>
    (await actions()).clientList(options),
  );
  where(
    clientSettings(client.command('update <id>').description("change a client's settings"), false),
  ).action(async (id, options) => (await actions()).clientUpdate(id, options));
  where(
    client
      .command('remove <id>')
      .description('remove a client with its accounts, their data and their tokens')
      .option('--yes', 'really remove', false),
  ).action(async (id, options) => (await actions()).clientRemove(id, options));

  const account = program.command('account').description("clients' accounts on the networks");
  where(
    accountSettings(
      account
        .command('add')
        .description('add an account to a client (then connect it: followback connect)')
        .requiredOption('--client <id>', 'the client')
        .addOption(
          new Option('--network <network>', 'the network')
            .choices(['x', 'bluesky', 'mastodon'])
            .makeOptionMandatory(),
        )
        .option('--account <id>', 'the account id (default <network>-<handle>)')
        .requiredOption('--handle <handle>', 'the handle on the network (without @)')
        .option('--paused', 'add it paused', false),
    ),
  ).action(async (options) => (await actions()).accountAdd(options));
  where(
    account.command('list').description('list accounts').option('--client <id>', 'only this client'),
  ).action(async (options) => (await actions()).accountList(options));
  where(
    accountSettings(
      account
        .command('update')
        .description("change an account's settings")
        .requiredOption('--client <id>', 'the client')
        .requiredOption('--account <id>', 'the account')
        .option('--handle <handle>', 'the handle on the network (without @)')
        .option('--paused', 'pause it')
        .option('--active', 'unpause it'),
    ),
  ).action(async (options) => (await actions()).accountUpdate(options));
  where(
    account
      .command('remove')
      .description('remove an account with its data and its tokens')
      .requiredOption('--client <id>', 'the client')
      .requiredOption('--account <id>', 'the account')
      .option('--yes', 'really remove', false),
  ).action(async (options) => (await actions()).accountRemove(options));

  where(
    program
      .command('apply <file>')
      .description(
        'make the registry match a clients.yaml: shows the plan; applies it with --yes (clients and accounts missing from the file are kept unless --prune)',
      )
      .option('--yes', 'apply the plan', false)
      .option(
        '--prune',
        'also remove clients and accounts the file does not list (their data and tokens too)',
        false,
      )
      .option(
        '--allow-empty',
        'with --prune: let a file that declares no clients remove every client and account',
        false,
      ),
  ).action(async (file, options) => (await actions()).applyFile(file, options));
}
