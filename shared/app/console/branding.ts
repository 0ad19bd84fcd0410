/**
 * A client's branding (display name, accent colour, logo URL), set from the console and shown on
 * its invite pages. Validated by the store's schema (`#rrggbb`, https only); a bad value names the
 * field and nothing is written. Every change is audited.
 */
import type { ClientRecord } from '../../domain/account.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Actor, AuditStore, BrandingStore, ClientBranding } from '../../ports/console.ts';
import type { RegistryStore } from '../../ports/store.ts';
import { requireClient } from '../tenants/registry.ts';

export interface BrandingDeps {
  registry: RegistryStore;
  branding: BrandingStore;
  audit: AuditStore;
  clock: Clock;
}

/** Empty fields clear the value (the agency's defaults show). */
export async function updateBranding(
  deps: BrandingDeps,
  actor: Actor,
  clientId: string,
  form: { displayName?: string | undefined; accent?: string | undefined; logoUrl?: string | undefined },
): Promise<ClientBranding> {
  await requireClient(deps.registry, clientId);
  const value = (text: string | undefined) =>
    text === undefined || text.trim() === '' ? undefined : text.trim();
  const branding: ClientBranding = {
    ...(value(form.displayName) === undefined ? {} : { displayName: value(form.displayName) }),
    ...(value(form.accent) === undefined ? {} : { accent: value(form.accent) }),
    ...(value(form.logoUrl) === undefined ? {} : { logoUrl: value(form.logoUrl) }),
  };
  await deps.branding.putBranding(clientId, branding);
  await deps.audit.appendAudit({
    at: deps.clock.now(),
    clientId,
    actor,
    action: 'settings',
    detail: `branding set: ${Object.keys(branding).join(', ') || 'defaults'}`,
  });
  return branding;
}

/** What a client's pages show: its branding over its name. */
export async function brandingOfClient(
  store: BrandingStore,
  client: ClientRecord,
): Promise<{ name: string; accent?: string | undefined; logoUrl?: string | undefined }> {
  const branding = await store.getBranding(client.clientId);
  return { name: branding?.displayName ?? client.name, accent: branding?.accent, logoUrl: branding?.logoUrl };
}
