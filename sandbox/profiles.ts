/**
 * Profile text for simulated users, derived on demand from a per-user seed so that a world of
 * hundreds of thousands of users stores numbers, not strings.
 */
import { chance, intBetween, pick, type RandomGenerator, streamRng } from './rng.ts';

const FIRST_NAMES = [
  'Ana',
  'Ben',
  'Chloe',
  'Dev',
  'Elena',
  'Farid',
  'Grace',
  'Hugo',
  'Ines',
  'Jonas',
  'Kai',
  'Lena',
  'Marco',
  'Nadia',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sam',
  'Tara',
  'Umar',
  'Vera',
  'Will',
  'Ximena',
  'Yusuf',
  'Zoe',
  'Aiko',
  'Bruno',
  'Carmen',
  'Diego',
  'Emma',
  'Felix',
  'Hana',
  'Ivan',
  'Julia',
  'Leo',
  'Maya',
  'Noah',
  'Olga',
  'Pablo',
  'Ravi',
  'Sofia',
  'Theo',
  'Uma',
  'Victor',
  'Wen',
  'Yara',
];
const LAST_NAMES = [
  'Adams',
  'Berg',
  'Costa',
  'Dubois',
  'Evans',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ito',
  'Jensen',
  'Kowalski',
  'Lopez',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Patel',
  'Quist',
  'Rossi',
  'Silva',
  'Tanaka',
  'Urban',
  'Varga',
  'Weber',
  'Xu',
  'Young',
  'Zimmer',
  'Novak',
  'Brown',
  'Kim',
  'Singh',
];
const HANDLE_WORDS = [
  'coffee',
  'studio',
  'pixel',
  'garden',
  'travel',
  'maker',
  'design',
  'daily',
  'local',
  'craft',
  'music',
  'books',
  'yoga',
  'bakery',
  'photo',
  'urban',
  'green',
  'tech',
  'vintage',
  'atelier',
  'fitness',
  'kitchen',
];
const BUSINESS_NAMES = [
  'Coffee Co',
  'Studio',
  'Bakery',
  'Design Lab',
  'Yoga Loft',
  'Bike Shop',
  'Bookstore',
  'Florist',
  'Tattoo',
  'Barbers',
  'Ceramics',
  'Kitchen',
  'Vintage',
  'Print Shop',
];
const BIO_PARTS = [
  'Coffee first.',
  'Designer by day, baker by night.',
  'Small business owner.',
  'Dog person.',
  'Photographer based in Lisbon.',
  'Runner, reader, recovering perfectionist.',
  'Building things on the web.',
  'Handmade ceramics since 2015.',
  'Opinions are my own.',
  'Plant parent 🌱',
  'Local news and weather.',
  'Marketing at a tiny agency.',
  'Mum of two.',
  'Into climbing and bad puns.',
  'Independent bookshop.',
  'Posting about food, mostly.',
  'Open to collabs.',
  'Teacher. Learner.',
  'Music is the answer.',
  'Vintage finds every Friday.',
  'He/him.',
  'She/her.',
  'They/them.',
  'Grumpy about fonts.',
];

/** Words whose presence in a bio is a spam signal (followback's keyword filter looks for such words). */
export const SPAM_PHRASES = [
  'DM for promo',
  'crypto signals',
  'earn $500/day',
  'free followers',
  'follow back 100%',
  'giveaway',
  'click the link',
  'investment opportunity',
  'forex profits',
  'promote your page',
  'onlyfans',
  'airdrop',
];

export const DEFAULT_PROFILE_IMAGE_URL =
  'https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png';

export interface ProfileTraits {
  /** Index of the user in the world: makes handles unique. */
  ordinal: number;
  spam: boolean;
  emptyBio: boolean;
  spamKeywords: boolean;
  defaultAvatar: boolean;
}

export interface ProfileText {
  username: string;
  name: string;
  description: string;
  profileImageUrl: string;
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function handleStem(rng: RandomGenerator, first: string, last: string): string {
  switch (intBetween(rng, 0, 3)) {
    case 0:
      return `${first}${last}`.toLowerCase();
    case 1:
      return `${first}_${last.charAt(0)}`.toLowerCase();
    case 2:
      return `${pick(rng, HANDLE_WORDS)}${first}`.toLowerCase();
    default:
      return `the${pick(rng, HANDLE_WORDS)}`;
  }
}

/** The profile text of one user, the same every time for the same seed and traits. */
export function profileText(profileSeed: number, traits: ProfileTraits): ProfileText {
  const rng = streamRng(profileSeed, 'profile');
  const first = pick(rng, FIRST_NAMES);
  const last = pick(rng, LAST_NAMES);
  const business = chance(rng, 0.2);
  let username: string;
  let name: string;
  if (traits.spam) {
    // X's suggested handles for new accounts: a name and eight digits.
    username = `${first}${String(traits.ordinal).padStart(8, '0')}`.slice(0, 15);
    name = chance(rng, 0.5) ? first : `${first} ${pick(rng, ['💰', '🚀', '🔥', '✨', ''])}`.trim();
  } else {
    const suffix = String(traits.ordinal);
    const stem = handleStem(rng, first, last).replace(/[^a-z_]/gi, '');
    username = `${stem.slice(0, 15 - suffix.length)}${suffix}`;
    name = business ? `${last} ${pick(rng, BUSINESS_NAMES)}` : `${first} ${last}`;
  }
  let description = '';
  if (!traits.emptyBio) {
    const parts = [pick(rng, BIO_PARTS)];
    if (chance(rng, 0.6)) parts.push(pick(rng, BIO_PARTS));
    if (traits.spamKeywords) parts.push(capitalise(pick(rng, SPAM_PHRASES)), pick(rng, SPAM_PHRASES));
    description = parts.join(' ');
  }
  const profileImageUrl = traits.defaultAvatar
    ? DEFAULT_PROFILE_IMAGE_URL
    : `https://pbs.twimg.com/profile_images/${1_000_000 + (profileSeed >>> 0)}/${username.toLowerCase()}_normal.jpg`;
  return { username, name, description, profileImageUrl };
}
