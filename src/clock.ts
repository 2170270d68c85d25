/** Time as the services see it: tests set it instead of sleeping. */
export interface Clock { now: () => Date }

export const systemClock: Clock = { now: () => new Date() }

export const epochSeconds = (clock: Clock): number => Math.floor(clock.now().getTime() / 1000)
