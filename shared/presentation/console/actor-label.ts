import type { Actor } from '../../ports/console.ts';

/** Who did it, for people: "console: <email>", "approval link", "CLI", "invite: <id>". */
export function actorLabel(actor: Actor): string {
  switch (actor.kind) {
    case 'console':
      return `console: ${actor.id}`;
    case 'approval-link':
      return 'approval link';
    case 'cli':
      return 'CLI';
    case 'invite':
      return `invite: ${actor.id}`;
  }
}
