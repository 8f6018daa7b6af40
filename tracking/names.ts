/** The experiment trackers a run can report to (a config's `tracking:` list). Pure: the config schema imports it. */
export const TRACKER_NAMES = ['tensorboard', 'mlflow'] as const;
export type TrackerName = (typeof TRACKER_NAMES)[number];
