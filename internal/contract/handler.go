package contract

import (
	"bytes"
	"io"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"kitaportal/internal/auth"
	"kitaportal/internal/authz"
	"kitaportal/internal/platform/apperr"
	"kitaportal/internal/platform/csvimport"
	"kitaportal/internal/platform/httpserver"
	"kitaportal/internal/platform/storage"
	"kitaportal/internal/platform/view"
	"kitaportal/internal/provider"
)

// Handler serves the register's pages (and its API, api.go).
type Handler struct {
	s          *Service
	facilities *provider.Service
	views      *view.Renderer
	forms      view.Forms
	authz      *authz.Enforcer
	files      storage.Storage // care contract documents
}

// NewHandler returns the register's handlers; csrf gives a page's form token.
func NewHandler(s *Service, facilities *provider.Service, views *view.Renderer, csrf func(*fiber.Ctx) string, enforcer *authz.Enforcer,
	files storage.Storage) *Handler {
	return &Handler{s: s, facilities: facilities, views: views, forms: view.Forms{Views: views, CSRF: csrf}, authz: enforcer, files: files}
}

// facilityQuery reads the optional ?facility= of a page; a malformed id is not found.
func facilityQuery(c *fiber.Ctx, name string) (uuid.UUID, error) {
	v := c.Query(name, c.FormValue(name))
	if v == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return uuid.Nil, ErrNotFound
	}
	return id, nil
}

// listData is the register page.
type listData struct {
	Contracts  []Contract
	Facilities []provider.Ref
	Facility   uuid.UUID
	Show       string
	CanCreate  bool
	CanImport  bool
	Truncated  bool // the register has more than one page shows: filter by facility
}

// List shows the register, filtered by facility and by running or ended.
func (h *Handler) List(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	facility, err := facilityQuery(c, "facility")
	if err != nil {
		return err
	}
	d := listData{Facility: facility, Show: c.Query("show", ShowCurrent), CanCreate: provider.Can(h.authz, c, "contract.create"),
		CanImport: provider.Can(h.authz, c, "contract.import")}
	if d.Contracts, err = h.s.List(c.UserContext(), call, Filter{FacilityID: facility, Show: d.Show}); err != nil {
		return err
	}
	if d.Facilities, err = h.facilities.Facilities(c.UserContext(), call); err != nil {
		return err
	}
	d.Truncated = len(d.Contracts) == maxListed
	f := view.NewForm(map[string]string{"facility": c.Query("facility"), "show": d.Show})
	return h.forms.Show(c, fiber.StatusOK, "contract_list", "contract.list.title", f, d)
}

// newData is the form for a new contract at one facility.
type newData struct {
	Facilities []provider.Ref // to choose from when no facility is chosen yet
	Facility   *provider.Ref
	Groups     []provider.Group
	Children   []ChildOption
	Scopes     []int
}

// NewForm shows the new-contract form; without a facility it asks for one first.
func (h *Handler) NewForm(c *fiber.Ctx) error {
	return h.newPage(c, fiber.StatusOK, view.NewForm(map[string]string{"child": "new"}), nil)
}

func (h *Handler) newPage(c *fiber.Ctx, status int, f *view.Form, failure error) error {
	call := auth.CallerOf(c)
	facility, err := facilityQuery(c, "facility_id")
	if err == nil && facility == uuid.Nil {
		facility, err = facilityQuery(c, "facility")
	}
	if err != nil {
		return err
	}
	d := newData{Scopes: call.Tenant.Rules.CareScopes}
	if facility == uuid.Nil {
		if d.Facilities, err = h.facilities.Facilities(c.UserContext(), call); err != nil {
			return err
		}
	} else {
		if d.Facility, d.Groups, err = h.facilities.Groups(c.UserContext(), call, facility); err != nil {
			return err
		}
		if d.Children, err = h.s.KnownChildren(c.UserContext(), call, facility); err != nil {
			return err
		}
		f.Values["facility_id"] = facility.String()
	}
	if failure != nil {
		return h.forms.Failed(c, failure, "contract_new", "contract.new.title", f, d)
	}
	return h.forms.Show(c, status, "contract_new", "contract.new.title", f, d)
}

// newFields are the fields of the new-contract form.
var newFields = []string{"facility_id", "group_id", "child", "child_id", "child_first_name", "child_last_name", "child_birth_date",
	"guardian_first_name", "guardian_last_name", "guardian_email", "guardian_phone", "street", "house_number", "plz", "city",
	"care_hours", "start_date", "end_date", "reference"}

// Create enters a contract from the form.
func (h *Handler) Create(c *fiber.Ctx) error {
	v := httpserver.FormValues(c, newFields...)
	in, errs := fromValues(v)
	err := errs.Err()
	var id uuid.UUID
	if err == nil {
		id, err = h.s.Create(c.UserContext(), auth.CallerOf(c), in)
	}
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound && e.Field == "facility_id" {
			return ErrNotFound // the form cannot be shown for a facility out of reach
		}
		return h.newPage(c, 0, view.NewForm(v), err)
	}
	return c.Redirect("/staff/contracts/"+id.String()+"?done=created", fiber.StatusSeeOther)
}

// fromValues reads a new contract from form or JSON values: child "new" (or child_id
// empty) enters the child with the contract.
func fromValues(v map[string]string) (NewContract, apperr.List) {
	var errs apperr.List
	in := NewContract{Reference: v["reference"], Source: "manual"}
	ids := map[string]*uuid.UUID{"facility_id": &in.FacilityID, "group_id": &in.GroupID, "child_id": &in.ChildID}
	for field, to := range ids {
		if v[field] == "" {
			continue
		}
		id, err := uuid.Parse(v[field])
		if err != nil {
			errs = append(errs, apperr.Invalid(field, "id_invalid", nil))
		}
		*to = id
	}
	if in.FacilityID == uuid.Nil && len(errs) == 0 {
		errs = append(errs, apperr.Invalid("facility_id", "required", nil))
	}
	if v["child"] == "new" || in.ChildID == uuid.Nil {
		in.ChildID = uuid.Nil
		in.Child = &NewChild{FirstName: v["child_first_name"], LastName: v["child_last_name"], GuardianFirstName: v["guardian_first_name"],
			GuardianLastName: v["guardian_last_name"], GuardianEmail: v["guardian_email"], GuardianPhone: v["guardian_phone"],
			Street: v["street"], HouseNumber: v["house_number"], PLZ: v["plz"], City: v["city"]}
		var e *apperr.Error
		if in.Child.BirthDate, e = provider.ParseDay("child_birth_date", v["child_birth_date"], true); e != nil {
			errs = append(errs, e)
		}
	}
	var e *apperr.Error
	if in.CareHours, e = provider.ParseInt("care_hours", v["care_hours"], 1, 100); e != nil {
		errs = append(errs, e)
	}
	if in.Start, e = provider.ParseDay("start_date", v["start_date"], true); e != nil {
		errs = append(errs, e)
	}
	if in.End, e = provider.ParseDay("end_date", v["end_date"], false); e != nil {
		errs = append(errs, e)
	}
	return in, errs
}

// detailData is a contract's page.
type detailData struct {
	*Detail
	CanChange bool
	Running   bool
	Scopes    []int
	Done      string
}

// Detail shows a contract with the forms to terminate it or change its scope.
func (h *Handler) Detail(c *fiber.Ctx) error { return h.detailPage(c, fiber.StatusOK, nil, nil) }

func (h *Handler) detailPage(c *fiber.Ctx, status int, f *view.Form, failure error) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	call := auth.CallerOf(c)
	d, err := h.s.Get(c.UserContext(), call, id)
	if err != nil {
		return err
	}
	data := detailData{Detail: d, CanChange: provider.Can(h.authz, c, "contract.change"), Scopes: call.Tenant.Rules.CareScopes,
		Running: d.Status != StatusCancelled, Done: provider.Done(h.views, c, "contract", "created", "terminated", "scope_changed", "cancelled", "papers_received")}
	if f == nil {
		f = view.NewForm(map[string]string{"end_date": d.End.String(), "care_hours": strconv.Itoa(d.CareHours), "from": h.s.Today().FirstOfMonth().AddMonths(1).String()})
	}
	if failure != nil {
		return h.forms.Failed(c, failure, "contract_detail", "contract.detail.title", f, data)
	}
	return h.forms.Show(c, status, "contract_detail", "contract.detail.title", f, data)
}

// Document downloads the care contract document.
func (h *Handler) Document(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	key, name, err := h.s.Document(c.UserContext(), auth.CallerOf(c), id)
	if err != nil {
		return err
	}
	return SendDocument(c, h.files, key, name)
}

// SendDocument streams a stored PDF as a download named name.
func SendDocument(c *fiber.Ctx, files storage.Storage, key, name string) error {
	r, err := files.Open(c.UserContext(), key)
	if err != nil {
		return err
	}
	defer r.Close()
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(body)
}

// PapersReceived notes that the signed papers came back.
func (h *Handler) PapersReceived(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.s.PapersReceived(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return err
	}
	return c.Redirect("/staff/contracts/"+id.String()+"?done=papers_received", fiber.StatusSeeOther)
}

// Terminate ends a contract early.
func (h *Handler) Terminate(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v := httpserver.FormValues(c, "end_date")
	end, e := provider.ParseDay("end_date", v["end_date"], true)
	if e != nil {
		err = e
	} else {
		err = h.s.Terminate(c.UserContext(), auth.CallerOf(c), id, end)
	}
	if err != nil {
		return h.changeFailed(c, v, err)
	}
	return c.Redirect("/staff/contracts/"+id.String()+"?done=terminated", fiber.StatusSeeOther)
}

// ChangeScope changes the weekly hours from a day.
func (h *Handler) ChangeScope(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	v := httpserver.FormValues(c, "care_hours", "from")
	var errs apperr.List
	hours, e := provider.ParseInt("care_hours", v["care_hours"], 1, 100)
	if e != nil {
		errs = append(errs, e)
	}
	from, e := provider.ParseDay("from", v["from"], true)
	if e != nil {
		errs = append(errs, e)
	}
	err = errs.Err()
	current := id
	if err == nil {
		current, err = h.s.ChangeScope(c.UserContext(), auth.CallerOf(c), id, hours, from)
	}
	if err != nil {
		return h.changeFailed(c, v, err)
	}
	return c.Redirect("/staff/contracts/"+current.String()+"?done=scope_changed", fiber.StatusSeeOther)
}

// Cancel voids a contract entered by mistake.
func (h *Handler) Cancel(c *fiber.Ctx) error {
	id, err := httpserver.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.s.Cancel(c.UserContext(), auth.CallerOf(c), id); err != nil {
		return h.changeFailed(c, map[string]string{}, err)
	}
	return c.Redirect("/staff/contracts/"+id.String()+"?done=cancelled", fiber.StatusSeeOther)
}

// changeFailed shows the contract again with the problem, or passes on what is not about
// the form (an unknown contract).
func (h *Handler) changeFailed(c *fiber.Ctx, v map[string]string, err error) error {
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		return err
	}
	return h.detailPage(c, 0, view.NewForm(v), err)
}

// importData is the contracts import page.
type importData struct {
	provider.ImportData
	Facilities []provider.Ref
}

// ImportForm shows the contracts import.
func (h *Handler) ImportForm(c *fiber.Ctx) error {
	fs, err := h.facilities.Facilities(c.UserContext(), auth.CallerOf(c))
	if err != nil {
		return err
	}
	f := view.NewForm(map[string]string{"facility": c.Query("facility"), "dry_run": "1"})
	return h.forms.Show(c, fiber.StatusOK, "contract_import", "contract.import.title", f, importData{ImportData: provider.ImportData{Columns: ImportColumns}, Facilities: fs})
}

// Import runs the contracts import (or its dry run) and shows the report.
func (h *Handler) Import(c *fiber.Ctx) error {
	call := auth.CallerOf(c)
	fs, err := h.facilities.Facilities(c.UserContext(), call)
	if err != nil {
		return err
	}
	d := importData{ImportData: provider.ImportData{Columns: ImportColumns}, Facilities: fs}
	f := view.NewForm(httpserver.FormValues(c, "facility", "dry_run"))
	facility, err := facilityQuery(c, "facility")
	var up *httpserver.Upload
	if err == nil {
		up, err = httpserver.ReadUpload(c, provider.ImportUpload)
	}
	var report *csvimport.Report
	if err == nil {
		report, err = h.s.Import(c.UserContext(), call, facility, bytes.NewReader(up.Content), httpserver.Checked(c, "dry_run"))
	}
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			err = apperr.Invalid("facility", "not_found", nil)
		}
		return h.forms.Failed(c, err, "contract_import", "contract.import.title", f, d)
	}
	d.Report = provider.Translate(h.views, c, report)
	status := fiber.StatusOK
	if len(report.Problems) > 0 {
		status = fiber.StatusUnprocessableEntity
	}
	return h.forms.Show(c, status, "contract_import", "contract.import.title", f, d)
}
