// An error in what the user gave — a config file, a data file, a flag's value — as opposed to a
// failure during a run. The CLI exits 2 for these (README: "2 bad usage or a bad config/data
// file"), 1 for anything else. The message names the file and the field or line.
export class InputError extends Error {}
