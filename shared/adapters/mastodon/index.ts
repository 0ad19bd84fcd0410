/** The Mastodon adapter of the Platform port (on masto). */
export {
  createMastodonPlatform,
  MASTODON_LIMITS,
  type MastodonInstanceLimits,
  MastodonPlatform,
  type MastodonPlatformOptions,
  type MastodonTokenProvider,
  mapMastodonError,
  mastodonLimits,
  noteText,
} from './mastodon-platform.ts';
