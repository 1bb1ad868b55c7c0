// The password policy, in the spirit of NIST SP 800-63B §5.1.1.2: length is what counts, not
// composition rules. At least 12 characters (any Unicode, spaces allowed), at most 200; not the
// username or built from it; not a well-known common password or a keyboard/number run; not a single
// character repeated. No "one digit and one symbol" rules and no forced periodic changes.

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 200;

// Frequently breached passwords of 12+ characters (shorter ones already fail the length rule), and
// stems that with a year or digits appended make most of the rest.
const COMMON = new Set([
  'password1234', 'password12345', 'password123456', 'passwordpassword', 'qwertyuiopasdfgh', 'qwertyuiop123',
  '123456789012', '1234567890123', '12345678901234', '123123123123', '111111111111', '000000000000',
  'iloveyou1234', 'administrator', 'administrator1', 'adminadminadmin', 'letmein12345', 'welcome12345',
  'changeme1234', 'trustno1trustno1', 'football1234', 'baseball1234', 'sunshine1234', 'princess1234',
  'starwars1234', 'qwerty123456', 'qwertyqwerty', 'asdfghjkl123', 'zxcvbnm12345', '1q2w3e4r5t6y',
  'passw0rd1234', 'p@ssw0rd1234', 'p@ssword1234', 'correcthorsebatterystaple', 'mimamori1234', 'mimamorimimamori',
]);
const STEMS = ['password', 'passw0rd', 'p@ssw0rd', 'qwerty', 'letmein', 'welcome', 'admin', 'changeme', 'iloveyou', 'mimamori', 'camera'];
const RUNS = ['0123456789012345678901234567890123456789', 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz', 'qwertyuiopasdfghjklzxcvbnmqwertyuiop'];

/**
 * What is wrong with `password` as a new password, as a sentence that says what to do; undefined
 * when it is acceptable.
 */
export function checkPasswordPolicy(password: string, { username }: { username?: string } = {}): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `the password is too short: use at least ${PASSWORD_MIN_LENGTH} characters (a few unrelated words make a good one)`;
  if (length > PASSWORD_MAX_LENGTH) return `the password is too long: use at most ${PASSWORD_MAX_LENGTH} characters`;
  const lower = password.toLowerCase();
  const folded = lower.replace(/[\s._@-]/g, '');
  const name = username?.trim().toLowerCase().replace(/[\s._@-]/g, '');
  if (name && name.length >= 3 && (folded.includes(name) || name.includes(folded))) return 'the password must not contain the username; choose something unrelated to it';
  if (new Set(password).size <= 2) return 'the password repeats the same one or two characters; choose something less predictable';
  if (COMMON.has(folded) || COMMON.has(lower)) return 'this password is on lists of commonly used passwords; choose another';
  const stemmed = STEMS.find((s) => folded.startsWith(s) && /^[\d!@#$%^&*?.]*$/.test(folded.slice(s.length)));
  if (stemmed) return `passwords made of "${stemmed}" and digits are among the first ones guessed; choose another`;
  if (RUNS.some((run) => run.includes(folded))) return 'the password is a keyboard or number run; choose something less predictable';
  return undefined;
}
