// The page's entry: every screen module registers, then the shell starts.

import "./office.js";
import "./storage.js";
import "./manager.js";
import "./privacy.js";
import { start } from "./app.js";

start();
