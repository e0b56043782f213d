export { buildReadingSeedling, writeReadingGguf, readingSeedlingKey, FULL_READING_RECIPE, QUICK_READING_RECIPE, type ReadingRecipe, type ReadingSeedlingReport, type ReadingTrainEvent } from "./build-reading-seedling.js";
export { buildReadingCorpus, isValidationPage, loadAllowedPages, readingAnswer, ABSENT_ANSWER, type ReadingCorpus, type ReadingExample } from "./reading-corpus.js";
export { readingQuestion } from "./questions.js";
export { continueReadingSeedling, COMPOSE_STAGE_RECIPE, type ComposeStageRecipe, type ComposeStageReport } from "./compose-stage.js";
