// Permissions of ticketing in the Ory Permission Language (Keto v0.13).
//
// Every subject is the subject set User:<Kratos identity id> with an empty
// relation. Admins are the members of Group:admin; each resource gets the
// tuple <Namespace>:<id>#admins@Group:admin#members when it is created.
// Keto reloads this file when it changes: edit it to change the policy.
import { Namespace, SubjectSet, Context } from "@ory/keto-namespace-types"

class User implements Namespace {}

class Group implements Namespace {
  related: {
    members: User[]
  }
}

class Ticket implements Namespace {
  related: {
    owners: User[]
    admins: SubjectSet<Group, "members">[]
  }

  permits = {
    edit: (ctx: Context): boolean =>
      this.related.owners.includes(ctx.subject) ||
      this.related.admins.includes(ctx.subject),

    // Anyone but the seller may order a ticket.
    order: (ctx: Context): boolean => !this.related.owners.includes(ctx.subject),
  }
}

class Order implements Namespace {
  related: {
    parents: Ticket[]
    owners: User[]
    admins: SubjectSet<Group, "members">[]
  }

  permits = {
    // The buyer, the seller of the ordered ticket, or an admin.
    view: (ctx: Context): boolean =>
      this.related.owners.includes(ctx.subject) ||
      this.related.parents.traverse((p) => p.related.owners.includes(ctx.subject)) ||
      this.related.admins.includes(ctx.subject),

    edit: (ctx: Context): boolean => this.related.owners.includes(ctx.subject),
  }
}

class Payment implements Namespace {
  related: {
    parents: Order[]
    owners: User[]
    admins: SubjectSet<Group, "members">[]
  }

  permits = {
    // The buyer, or whoever may view the paid order.
    view: (ctx: Context): boolean =>
      this.related.owners.includes(ctx.subject) ||
      this.related.parents.traverse((o) => o.permits.view(ctx)) ||
      this.related.admins.includes(ctx.subject),

    edit: (ctx: Context): boolean => this.related.owners.includes(ctx.subject),

    // The buyer, or an admin, may give the money back.
    refund: (ctx: Context): boolean =>
      this.related.owners.includes(ctx.subject) ||
      this.related.admins.includes(ctx.subject),
  }
}
