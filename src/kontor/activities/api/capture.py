from ninja import Router

router = Router(tags=["trade-fair capture"])
