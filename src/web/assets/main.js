// The page's entry: every screen module registers, then the shell starts.

import { start } from "./app.js";

start();
