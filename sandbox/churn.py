"""The SalesWings world moving on between cycles: visits, tags, scores, merges, deletions."""

import random

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .models import SfLead, SwActivity, SwProspect
from .seed import FIRST, LAST, PAGES, TAGS


def churn(size, seed=None):
    """Touch about `size` active prospects; a few merge or are deleted, a few are new.

    Every touched prospect gets a new `seq`, so an incremental read sees it. Returns what
    happened, by kind.
    """
    rng = random.Random(seed)
    now = timezone.now()
    done = {"visited": 0, "merged": 0, "deleted": 0, "created": 0, "activities": 0}
    with transaction.atomic():
        active = list(SwProspect.objects.filter(lifecycle="Active").values_list("id", flat=True))
        if not active:
            return done
        seq = SwProspect.objects.aggregate(m=Max("seq"))["m"] or 0
        act_seq = SwActivity.objects.aggregate(m=Max("seq"))["m"] or 0
        picked = rng.sample(active, min(size, len(active)))
        rows = {p.id: p for p in SwProspect.objects.filter(id__in=picked)}
        n_merge = max(1, size // 20) if len(active) > 10 else 0
        n_delete = max(1, size // 30) if len(active) > 10 else 0
        tag_ids = [t[0] for t in TAGS]
        changed, new_acts = [], []
        for i, pid in enumerate(picked):
            p = rows[pid]
            seq += 1
            p.seq, p.updated_at = seq, now
            if i < n_merge:
                p.lifecycle = "Merged"
                p.merged_into = rng.choice([a for a in active if a != pid])
                done["merged"] += 1
            elif i < n_merge + n_delete:
                p.lifecycle = "Deleted"
                done["deleted"] += 1
            else:
                p.last_visit = now
                scores = dict(p.scores or {})
                scores["engagement"] = min(100, scores.get("engagement", 0) + rng.randrange(1, 15))
                p.scores = scores
                if rng.random() < 0.4:
                    p.tags = sorted(set(p.tags or []) | {rng.choice(tag_ids)})
                if rng.random() < 0.3:
                    p.temperature = rng.choice(["Hot", "Warm", "Cold"])
                if rng.random() < 0.1:
                    p.favorite = not p.favorite
                url, title = rng.choice(PAGES)
                act_seq += 1
                new_acts.append(
                    SwActivity(
                        id=f"act_{act_seq:07d}", seq=act_seq, prospect_id=pid, type="page_visit",
                        occurred_at=now, url=url, title=title, details={},
                    )
                )  # fmt: skip
                done["visited"] += 1
            changed.append(p)
        SwProspect.objects.bulk_update(
            changed,
            ["seq", "updated_at", "lifecycle", "merged_into", "last_visit", "scores", "tags",
             "temperature", "favorite"],
        )  # fmt: skip
        # New prospects; half of them carry the e-mail of a Lead nobody matched yet.
        n_new = max(1, size // 25)
        count = SwProspect.objects.count()
        lead_emails = list(
            SfLead.objects.filter(sw_prospect_id__isnull=True, is_converted=False)
            .exclude(email__isnull=True)
            .values_list("email", flat=True)[:200]
        )
        for k in range(n_new):
            seq += 1
            number = count + k + 1
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = (
                rng.choice(lead_emails).lower()
                if lead_emails and rng.random() < 0.5
                else f"{first}.{last}.{number}@example.com".lower()
            )
            pid = f"p_{number:06d}"
            while SwProspect.objects.filter(id=pid).exists():
                number += 1000000
                pid = f"p_{number:06d}"
            SwProspect.objects.create(
                id=pid, seq=seq, email=email, first_name=first, last_name=last,
                lifecycle="Active", temperature="Warm", last_visit=now,
                tags=[rng.choice(tag_ids)], scores={"engagement": rng.randrange(1, 30), "fit": 5},
                updated_at=now,
            )  # fmt: skip
            done["created"] += 1
        SwActivity.objects.bulk_create(new_acts)
        done["activities"] = len(new_acts)
    return done
