/** The networks followback serves (the domain's own type; the platform port re-exports it). */
export type Network = 'x' | 'bluesky' | 'mastodon';
