import glob
import json

import numpy as np

from glasscam.core.tasks import kinetic_relaxation_time

rows = {}
for f in sorted(glob.glob("/work/pilot_abm2d/out*/pilot_*.json")):
    dur = "100" if "out100" in f else "60"
    for r in json.load(open(f)):
        rows.setdefault((r["T_G"], dur), []).append(r)
table = []
for (tg, dur), rs in sorted(rows.items()):
    rec = {"T_G": tg, "T_L": rs[0]["T_L"], "aging_duration": float(dur), "trajectories": len(rs),
           "liquids": len({r["run"] for r in rs})}
    for tw in ("tw0", "tw10", "tw30", "tw60"):
        vals = [r[tw] for r in rs if tw in r]
        if not vals: continue
        f = np.array([v[2] for v in vals])
        rec[f"{tw}_start"] = round(float(np.mean([v[0] for v in vals])), 3)
        rec[f"{tw}_dt"] = round(float(np.mean([v[1] for v in vals])), 3)
        rec[f"{tw}_frac_A_gt0.5"] = round(float(f.mean()), 4)
        rec[f"{tw}_frac_A_gt0.5_sem"] = round(float(f.std(ddof=1) / np.sqrt(len(f))), 4)
        rec[f"{tw}_frac_A_gt0.5sigmaAA"] = round(float(np.mean([v[3] for v in vals])), 4)
        rec[f"{tw}_msd_A"] = round(float(np.mean([v[4] for v in vals])), 4)
    if dur == "100":
        tk = kinetic_relaxation_time(np.array(rs[0]["times"]), np.array([r["Tkin"] for r in rs]), tg, 1000, 2)
        rec["t_K"] = tk["time"]; rec["sigma_T"] = round(tk["sigma"], 5)
        t = np.array(tk["times"]); m = np.array(tk["mean"])
        rec["Tkin_mean_at"] = {f"{t[i]:.3g}": round(float(m[i]), 4) for i in range(1, len(t)) if t[i] in t[[1, 10, 15, 18, 20, 22, 25, 30, 35, 42]]}
    table.append(rec)
for rec in table:
    print(json.dumps(rec))
json.dump(table, open("/work/pilot_abm2d/pilot_table.json", "w"), indent=1)
