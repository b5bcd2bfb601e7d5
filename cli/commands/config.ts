import { maskSecrets, toYaml, exampleYaml, jsonSchema } from '../../config/print.ts';
import { FACEGATE_ERR_USAGE } from '../../shared/errors.ts';
import type { Command } from '../command.ts';

export const configCommand: Command = {
  name: 'config',
  summary: 'print, check or describe the configuration',
  usage: `facegate config print    the effective configuration (secrets masked), as YAML
facegate config check    validate; exit 0 when valid, 2 with one line naming the key when not
facegate config schema   JSON Schema of the configuration file, for editors
facegate config example  the commented example file with every default`,
  flags: [],
  async run(ctx) {
    const sub = ctx.args[0] ?? 'print';
    switch (sub) {
      case 'print':
        ctx.stdout.write(toYaml(maskSecrets(ctx.config())));
        return 0;
      case 'check':
        ctx.config();
        ctx.stdout.write('config ok\n');
        return 0;
      case 'schema':
        ctx.stdout.write(JSON.stringify(jsonSchema(), null, 2) + '\n');
        return 0;
      case 'example':
        ctx.stdout.write(exampleYaml());
        return 0;
      default:
        throw FACEGATE_ERR_USAGE(
          `config: unknown subcommand ${JSON.stringify(sub)}; use print, check, schema or example`,
        );
    }
  },
};
