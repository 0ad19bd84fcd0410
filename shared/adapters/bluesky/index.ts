/** The Bluesky adapter of the Platform port (on @atcute/client). */
export {
  BLUESKY_DEFAULT_SERVICE,
  BLUESKY_LIMITS,
  BLUESKY_WRITE_POINTS,
  BlueskyPlatform,
  type BlueskyPlatformOptions,
  type BlueskySession,
  createBlueskyPlatform,
  FOLLOW_COLLECTION,
  mapBlueskyError,
} from './bluesky-platform.ts';
