import { userInfo } from "node:os";

/** Who acts from this terminal (recorded on review decisions and on events): the OS user name, else `cli`. */
export function cliActor(): string {
  try {
    return userInfo().username;
  } catch {
    return "cli";
  }
}
