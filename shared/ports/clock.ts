/** Time as epoch milliseconds. The domain never reads the system clock itself. */
export interface Clock {
  now(): number;
}
